package workload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/history"
)

func TestClassifyWrite(t *testing.T) {
	cases := []struct {
		err  error
		kind history.Kind
	}{
		{nil, history.KindOK},
		{&client.Error{Status: 503, Code: "outcome_unknown"}, history.KindInfo},
		{fmt.Errorf("%w: reset", client.ErrUnknownOutcome), history.KindInfo},
		{&client.Error{Status: 412, Code: "revision_mismatch"}, history.KindFail},
		{&client.Error{Status: 412, Code: "already_exists"}, history.KindFail},
		{&client.Error{Status: 503, Code: "no_leader"}, history.KindFail},
		{&client.Error{Status: 503, Code: "unavailable"}, history.KindInfo},
		{&client.Error{Status: 500, Code: "internal"}, history.KindInfo},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, history.KindFail},
		{context.DeadlineExceeded, history.KindInfo},
	}
	for _, c := range cases {
		if got, _ := ClassifyWrite(c.err); got != c.kind {
			t.Errorf("%v: got %s, want %s", c.err, got, c.kind)
		}
	}
}

func TestUUIDsAreCanonical(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		u := uuidFrom(rng)
		if !re.MatchString(u) || seen[u] {
			t.Fatalf("bad or repeated uuid %q", u)
		}
		seen[u] = true
	}
}

func TestSlotRotation(t *testing.T) {
	cfg := DefaultRegisterConfig()
	cfg.OpsPerKey, cfg.InfosPerKey = 10, 2
	s := newSlot(rand.New(rand.NewPCG(3, 4)), cfg)
	first := s.current()
	s.done(first, history.KindInfo)
	s.done("some-old-key", history.KindInfo) // ops on retired keys do not count
	if s.current() != first {
		t.Fatal("rotated too early")
	}
	s.done(first, history.KindInfo)
	if s.current() == first {
		t.Fatal("not rotated after InfosPerKey unknown outcomes")
	}
	second := s.current()
	for i := 0; i < 11 && s.current() == second; i++ {
		s.done(second, history.KindOK)
	}
	if s.current() == second {
		t.Fatal("not rotated after about OpsPerKey operations")
	}
}

// The limiter never hands out permits faster than its rate (a busy machine only makes them
// slower), and Wait gives up once its context ends.
func TestLimiterPaces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	l := NewLimiter(ctx, 50)
	for i := 0; i < 5; i++ {
		if !l.Wait(ctx) {
			t.Fatalf("permit %d not handed out within 10s", i+1)
		}
	}
	if took := time.Since(start); took < 5*20*time.Millisecond {
		t.Fatalf("5 permits at 50/s in %v, want at least 100ms", took)
	}
	slow := NewLimiter(ctx, 0.001) // its first permit comes after 1000s
	wctx, wcancel := context.WithCancel(context.Background())
	wcancel()
	if slow.Wait(wctx) {
		t.Fatal("Wait handed out a permit after its context ended")
	}
}

func TestCatalog(t *testing.T) {
	for _, name := range []string{"register", "set", "cells"} {
		if w, err := Lookup(name); err != nil || w.Name() != name {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := Lookup("bank"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("bank: %v", err)
	}
	w, _ := Lookup("cells")
	if _, ok := w.(Preparer); !ok {
		t.Fatal("cells has no one-time setup")
	}
	p, ok := w.(NemesisProvider)
	if !ok || len(p.Nemeses()) != 1 || p.Nemeses()[0].Name() != "conductor-cut" {
		t.Fatal("cells does not bring the conductor-cut nemesis")
	}
	w, _ = Lookup("register")
	if p, ok := w.(NemesisProvider); !ok || len(p.Nemeses()) != 1 || p.Nemeses()[0].Name() != IsolateLeader {
		t.Fatal("register does not bring isolate-leader with its stale-read probe")
	}
}

func TestErrorTextIsShort(t *testing.T) {
	err := fmt.Errorf("%w: %v", client.ErrUnknownOutcome, errors.New(`Put "http://10.77.0.1:8480/v1/instance-mappings/x": context deadline exceeded`))
	if got := orMessage("", err); got != "sent, outcome unknown: context deadline exceeded" {
		t.Fatalf("got %q", got)
	}
	if got := orMessage("no_leader", err); got != "no_leader" {
		t.Fatalf("got %q", got)
	}
}
