package fsm

import (
	"errors"
	"reflect"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	tests := []Command{
		&JobRegisterRequest{Job: newJob("j-1", api.JobTypeBatch, t0), EvalID: "ev-1", IdempotencyToken: "tok", TokenExpiry: t0 + 5, Now: t0},
		&JobStopRequest{JobID: "j-1", Reason: "enough", EvalID: "ev-2", Now: t0},
		&Plan{EvalID: "ev-1", JobID: "j-1", JobRevision: 3,
			NewExecutions:    []*api.Execution{newExec("e-1", "j-1", "n-1", 0.5, api.ExecutionStateAskForBid)},
			ExecutionUpdates: []*ExecutionUpdate{{ExecutionID: "e-0", ExpectedComputeState: api.ExecutionStateAskForBidAccepted, ComputeState: &api.State[api.ExecutionStateType]{StateType: api.ExecutionStateBidAccepted}}},
			JobState:         &api.State[api.JobStateType]{StateType: api.JobStateTypeRunning},
			NewEvals:         []*api.Evaluation{{ID: "ev-3", JobID: "j-1", WaitUntil: 9}},
			EvalStatus:       api.EvalStatusBlocked, EvalComment: "waiting", CoalescedEvalIDs: []string{"ev-4"}, Now: t0},
		&ExecutionReportRequest{NodeID: "n-1", Updates: []api.ExecutionUpdate{{ExecutionID: "e-1", ComputeState: api.ExecutionStateCompleted,
			RunOutput: &api.RunCommandResult{STDOUT: "hi\n"}}}, Now: t0},
		&NodeRegisterRequest{Node: newNode("n-1", cpu(2)), Now: t0},
		&NodeStatusRequest{NodeID: "n-1", Connection: api.NodeDisconnected, Reason: "gone", Now: t0},
		&EvalUpdateRequest{Evals: []*api.Evaluation{{ID: "ev-1", Status: api.EvalStatusFailed}}, Now: t0},
		&IdempotencyPruneRequest{Now: t0},
		&EvalGCRequest{Before: t0, Limit: 10, Now: t0},
	}
	for _, cmd := range tests {
		t.Run(cmd.MessageType().String(), func(t *testing.T) {
			b, err := Encode(cmd)
			if err != nil {
				t.Fatal(err)
			}
			if MessageType(b[0]) != cmd.MessageType() {
				t.Fatalf("type byte %d, want %d", b[0], cmd.MessageType())
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, cmd) {
				t.Fatalf("round trip changed the command:\n got %#v\nwant %#v", got, cmd)
			}
		})
	}
}

func TestDecodeRejectsUnknownEntries(t *testing.T) {
	tests := []struct {
		name    string
		entry   []byte
		unknown bool // the error wraps ErrUnknownCommand
	}{
		{"empty", nil, true},
		{"unknown type", []byte{200, '{', '}'}, true},
		{"batch is not a command", EncodeBatch(nil), true},
		{"broken payload", []byte{byte(MsgJobStop), '{'}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.entry)
			if err == nil {
				t.Fatal("Decode accepted it")
			}
			if got := errors.Is(err, ErrUnknownCommand); got != tt.unknown {
				t.Fatalf("errors.Is(%v, ErrUnknownCommand) = %t, want %t", err, got, tt.unknown)
			}
		})
	}
}

func TestSplitBatch(t *testing.T) {
	a, _ := Encode(&IdempotencyPruneRequest{Now: 1})
	b, _ := Encode(&JobStopRequest{JobID: "j-1"})
	long := make([]byte, 300) // a length that takes two uvarint bytes
	long[0] = byte(MsgEvalUpdate)
	tests := []struct {
		name    string
		entry   []byte
		want    [][]byte
		wantErr bool
	}{
		{"three", EncodeBatch([][]byte{a, b, long}), [][]byte{a, b, long}, false},
		{"empty batch", EncodeBatch(nil), nil, false},
		{"not a batch", a, nil, true},
		{"empty entry", nil, nil, true},
		{"truncated", EncodeBatch([][]byte{a, b})[:len(a)+3], nil, true},
		{"length past the end", []byte{byte(MsgBatch), 0xff, 0x01}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitBatch(tt.entry)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownCommand) {
					t.Fatalf("err = %v, want one wrapping ErrUnknownCommand", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d commands, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if string(got[i]) != string(tt.want[i]) {
					t.Fatalf("command %d differs", i)
				}
			}
		})
	}
}
