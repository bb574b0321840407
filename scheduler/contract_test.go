package scheduler

import "github.com/shoal-io/shoal/fsm"

// The server wires these together; a drift in either contract fails here.
var (
	_ State        = (*fsm.ReadTxn)(nil)
	_ fsm.Observer = (*Scheduler)(nil)
)
