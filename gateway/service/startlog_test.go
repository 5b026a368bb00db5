package service

import (
	"fmt"
	"strings"
	"testing"
)

// The start line names a Redis store by scheme, host and database: never
// its user, password or query.
func TestStartLineHidesTheRedisPassword(t *testing.T) {
	pw := fmt.Sprintf("pw%x", randomBytes(12))
	got := fmt.Sprint(storeAttrs(Config{Store: "rediss://gateway:" + pw + "@redis.onething:6380/2?prefix=sc"}))
	if strings.Contains(got, pw) || strings.Contains(got, "gateway:") || !strings.Contains(got, "rediss://redis.onething:6380/2") {
		t.Errorf("store attributes %s", got)
	}
	if got := fmt.Sprint(storeAttrs(Config{DataFile: "/data/onething.db"})); got != "[store bolt storePath /data/onething.db]" {
		t.Errorf("bolt store attributes %s", got)
	}
}
