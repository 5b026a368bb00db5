// Package replicatest holds the scale-out tests: the onething binary, built
// once, runs as two gateway processes (`onething serve`) on one private
// redis-server, with the department mocks and the portal receiver in a
// third process (`onething mocks`) and a small load balancer in the test
// process in front of the replicas for the departments' callbacks. Every
// address is on loopback; every wait is bounded.
//
// The tests show: 200 submissions over both replicas all complete, each
// department applying each task once; a replica killed with SIGKILL while
// it holds department calls in flight, the other finishing everything;
// Redis killed and restarted on its AOF mid-run; the same webhook delivered
// to both replicas at the same instant creating one application; the queue
// wiped behind the gateway's back and the reconciler bringing the work back.
package replicatest
