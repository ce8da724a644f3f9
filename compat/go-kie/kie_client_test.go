package compat

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-chassis/cari/pkg/errsvc"
	kie "github.com/go-chassis/kie-client"
)

const envAddr = "OPENSTAGE_SC_ADDR"

// newClient returns a kie-client for the server in OPENSTAGE_SC_ADDR; it fails
// (never skips) when the variable is unset or nothing listens there.
func newClient(t *testing.T) *kie.Client {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(os.Getenv(envAddr)), "http://"), "/")
	if addr == "" {
		t.Fatalf("%s is not set: run compat/run-go.sh, which starts a server", envAddr)
	}
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("%s=%s: cannot connect: %v", envAddr, addr, err)
	}
	_ = conn.Close()
	c, err := kie.NewClient(kie.Config{Endpoint: "http://" + addr})
	if err != nil {
		t.Fatalf("kie.NewClient: %v", err)
	}
	return c
}

// hasCode reports whether err is the server's error body with errorCode code.
func hasCode(err error, code int32) bool {
	var e *errsvc.Error
	return errors.As(err, &e) && e.Code == code
}

func uniq(prefix string) string {
	return fmt.Sprintf("%s%08x", prefix, rand.Uint32())
}

func TestKieClientCreateListDelete(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	project := uniq("p")
	labels := map[string]string{"app": "compat", "service": uniq("svc")}

	kv, err := c.Create(ctx, kie.KVRequest{Key: "timeout", Value: "1s", Labels: labels}, kie.WithProject(project))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if kv.ID == "" || kv.Status != "disabled" || kv.ValueType != "text" || kv.UpdateRevision < 1 {
		t.Fatalf("Create returned %+v; want an id, status disabled, value_type text, a revision", kv)
	}
	if _, err := c.Create(ctx, kie.KVRequest{Key: "timeout", Value: "2s", Labels: labels}, kie.WithProject(project)); !hasCode(err, 409001) {
		t.Fatalf("duplicate Create: got %v, want a 409001 error", err)
	}

	got, err := c.Get(ctx, kv.ID, kie.WithGetProject(project))
	if err != nil || got.Value != "1s" {
		t.Fatalf("Get: %+v, %v", got, err)
	}

	res, rev, err := c.List(ctx, kie.WithGetProject(project), kie.WithLabels(labels), kie.WithRevision(0))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if res.Total != 1 || len(res.Data) != 1 || res.Data[0].Key != "timeout" || rev < int(kv.UpdateRevision) {
		t.Fatalf("List: total %d, data %+v, revision %d", res.Total, res.Data, rev)
	}
	if _, _, err := c.List(ctx, kie.WithGetProject(project), kie.WithLabels(labels), kie.WithExact(), kie.WithRevision(rev)); !errors.Is(err, kie.ErrNoChanges) {
		t.Fatalf("List at the latest revision: got %v, want ErrNoChanges (304)", err)
	}

	updated, err := c.Put(ctx, kie.KVRequest{ID: kv.ID, Key: "timeout", Value: "3s", Status: "enabled"}, kie.WithProject(project))
	if err != nil || updated.Value != "3s" || updated.Status != "enabled" {
		t.Fatalf("Put: %+v, %v", updated, err)
	}

	if err := c.Delete(ctx, kv.ID, kie.WithProject(project)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := c.Get(ctx, kv.ID, kie.WithGetProject(project)); !hasCode(err, 404001) {
		t.Fatalf("Get after Delete: got %v, want a 404001 error", err)
	}

	a, _ := c.Create(ctx, kie.KVRequest{Key: "a", Value: "1"}, kie.WithProject(project))
	b, _ := c.Create(ctx, kie.KVRequest{Key: "b", Value: "2"}, kie.WithProject(project))
	if a == nil || b == nil {
		t.Fatal("Create a, b failed")
	}
	if err := c.Delete(ctx, a.ID+","+b.ID, kie.WithProject(project)); err != nil {
		t.Fatalf("batch Delete: %v", err)
	}
	if res, _, err := c.List(ctx, kie.WithGetProject(project), kie.WithRevision(0)); err != nil || res.Total != 0 {
		t.Fatalf("List after batch delete: %+v, %v", res, err)
	}
}

func TestKieClientLongPollWakesOnChange(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	project := uniq("p")
	labels := map[string]string{"app": "compat", "service": uniq("svc")}
	kv, err := c.Create(ctx, kie.KVRequest{Key: "feature.x", Value: "off", Labels: labels}, kie.WithProject(project))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	// The client remembers the revision of its last successful List.
	if _, _, err := c.List(ctx, kie.WithGetProject(project), kie.WithLabels(labels)); err != nil {
		t.Fatalf("List: %v", err)
	}
	start := c.CurrentRevision()

	type result struct {
		res *kie.KVResponse
		rev int
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		res, rev, err := c.List(ctx, kie.WithGetProject(project), kie.WithLabels(labels), kie.WithWait("30s"))
		done <- result{res, rev, err, time.Now()}
	}()

	// A change in another project and one with other labels must not wake the poll.
	time.Sleep(300 * time.Millisecond)
	other := newClient(t)
	if _, err := other.Create(ctx, kie.KVRequest{Key: "feature.x", Value: "on", Labels: labels}, kie.WithProject(uniq("p"))); err != nil {
		t.Fatalf("Create in another project: %v", err)
	}
	if _, err := other.Create(ctx, kie.KVRequest{Key: "feature.x", Value: "on", Labels: map[string]string{"app": "elsewhere"}}, kie.WithProject(project)); err != nil {
		t.Fatalf("Create with other labels: %v", err)
	}
	select {
	case r := <-done:
		t.Fatalf("poll answered before a matching change: %+v", r)
	case <-time.After(500 * time.Millisecond):
	}

	changedAt := time.Now()
	if _, err := other.Put(ctx, kie.KVRequest{ID: kv.ID, Key: "feature.x", Value: "on", Status: "enabled"}, kie.WithProject(project)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("held List: %v", r.err)
		}
		if r.rev <= start || len(r.res.Data) != 1 || r.res.Data[0].Value != "on" || r.res.Data[0].Status != "enabled" {
			t.Fatalf("held List woke with revision %d (was %d), data %+v", r.rev, start, r.res.Data)
		}
		if lat := r.at.Sub(changedAt); lat > 2*time.Second {
			t.Fatalf("wake-up took %v", lat)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the held poll was not woken by the change")
	}

	// With nothing changing, a short wait ends in ErrNoChanges (304).
	if _, _, err := c.List(ctx, kie.WithGetProject(project), kie.WithLabels(labels), kie.WithWait("1s")); !errors.Is(err, kie.ErrNoChanges) {
		t.Fatalf("idle poll: got %v, want ErrNoChanges", err)
	}
}
