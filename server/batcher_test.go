package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// singleRaft is a one-node Raft over in-memory stores, with the real FSM.
func singleRaft(t *testing.T, bootstrap bool) (*raft.Raft, *fsm.FSM) {
	t.Helper()
	cfg := raft.DefaultConfig()
	cfg.LocalID = "n1"
	cfg.Logger = hclog.NewNullLogger()
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	store := raft.NewInmemStore()
	_, trans := raft.NewInmemTransport("n1")
	f := fsm.New(fsm.Config{})
	r, err := raft.NewRaft(cfg, f, store, store, raft.NewInmemSnapshotStore(), trans)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Shutdown().Error() })
	if bootstrap {
		if err := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{ID: "n1", Address: trans.LocalAddr()}}}).Error(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for r.State() != raft.Leader {
			if time.Now().After(deadline) {
				t.Fatal("no leader")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return r, f
}

func registerCommand(t *testing.T, i int) []byte {
	t.Helper()
	job := &api.Job{ID: fmt.Sprintf("j-%04d", i), Name: "x", Namespace: "default", Type: api.JobTypeBatch, Count: 1,
		Meta: map[string]string{}, Labels: map[string]string{},
		Tasks: []*api.Task{{Name: "t", Engine: &api.SpecConfig{Type: "noop"}}},
		State: api.State[api.JobStateType]{StateType: api.JobStateTypePending}, Revision: 1, CreateTime: 1, ModifyTime: 1}
	data, err := fsm.Encode(&fsm.JobRegisterRequest{Job: job, EvalID: fmt.Sprintf("ev-%04d", i), Now: 1})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Concurrent writes share entries and each gets its own answer.
func TestBatcherPacksConcurrentWrites(t *testing.T) {
	r, f := singleRaft(t, true)
	var batches, commands atomic.Int64
	b := newBatcher(r, 1, 64, func(n int) { batches.Add(1); commands.Add(int64(n)) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.run(ctx)

	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, index, err := b.apply(ctx, registerCommand(t, i))
			switch {
			case err != nil:
				errs <- err
			case res.Err != nil:
				errs <- res.Err
			case res.Value.(*fsm.JobRegisterResult).JobID != fmt.Sprintf("j-%04d", i):
				errs <- fmt.Errorf("command %d got the answer of %s", i, res.Value.(*fsm.JobRegisterResult).JobID)
			case f.State().Index() < index:
				errs <- fmt.Errorf("answered before applying index %d", index)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if commands.Load() != n {
		t.Fatalf("%d commands went out, want %d", commands.Load(), n)
	}
	if batches.Load() >= n {
		t.Fatalf("%d entries for %d concurrent commands: nothing was batched", batches.Load(), n)
	}
	if jobs, _, _, _ := f.State().Txn().Counts(); jobs != n {
		t.Fatalf("%d jobs stored, want %d", jobs, n)
	}
	// A command that fails on its own fails alone.
	res, _, err := b.apply(ctx, registerCommand(t, 7))
	if err != nil || !errors.Is(res.Err, api.ErrConflict) {
		t.Fatalf("duplicate create: %v %v", res.Err, err)
	}
}

// A replica that is not the leader writes nothing and says the leader may
// take the command.
func TestBatcherOnAFollowerSaysNotLeader(t *testing.T) {
	r, _ := singleRaft(t, false)
	b := newBatcher(r, 1, 64, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.run(ctx)
	_, _, err := b.apply(ctx, registerCommand(t, 1))
	if !errors.Is(err, errNotLeader) {
		t.Fatalf("err %v, want errNotLeader", err)
	}
}

// A forwarded write on an idle leader is followed by a barrier entry, whose
// AppendEntries tells the followers the write committed; a local write, or a
// forwarded one with more entries coming, is not.
func TestBatcherNudgesFollowersAfterForwardedWrites(t *testing.T) {
	tests := []struct {
		name      string
		forwarded bool
		want      int64
	}{
		{"local write", false, 0},
		{"forwarded write", true, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := singleRaft(t, true)
			b := newBatcher(r, 2, 64, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go b.run(ctx)
			wctx := ctx
			if tt.forwarded {
				wctx = withForwarded(ctx)
			}
			_, index, err := b.apply(wctx, registerCommand(t, i))
			if err != nil {
				t.Fatal(err)
			}
			if got := b.nudges.Load(); got != tt.want {
				t.Fatalf("%d barriers sent, want %d", got, tt.want)
			}
			if tt.want > 0 {
				deadline := time.Now().Add(10 * time.Second)
				for r.LastIndex() <= index {
					if time.Now().After(deadline) {
						t.Fatalf("no entry after the write's index %d", index)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
}
