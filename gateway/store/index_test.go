package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"onething/gateway/seal"
)

// Two people whose ID numbers share a tag: a search by one finds only
// that person's application (the other's is read and left out), on a
// store that holds both.
func TestIndexTagSharedByTwoPeople(t *testing.T) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	tag := func(n string) string { return shortIndex(keys.Index(IDNumberField, n)) }
	first := "511702198503070011"
	var second string
	for i := 12; i < 1_000_000 && second == ""; i++ {
		if n := fmt.Sprintf("5117021985%08d", i); tag(n) == tag(first) {
			second = n
		}
	}
	if second == "" {
		t.Fatal("no second number with the first's tag")
	}
	b, err := OpenBolt(filepath.Join(t.TempDir(), "t.db"), WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	for id, n := range map[string]string{"A": first, "B": second} {
		app := richApp(id)
		app.Applicant.IDNumber = n
		if _, err := b.Create(ctx, app, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for n, want := range map[string][]string{first: {"A"}, second: {"B"}, "511702198503079999": nil} {
		if got, err := b.FindByIDNumber(ctx, n); err != nil || !slices.Equal(got, want) {
			t.Errorf("find %s: %v, %v; want %v", n, got, err, want)
		}
	}
	if tag(first) == keys.Index(IDNumberField, first) || !isShortIndex(tag(first)) {
		t.Errorf("the tag %q is not short", tag(first))
	}
}
