package server

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// readJob opens the read view a request asked for (see readTxn) and finds
// the job its path names, by full ID or unique prefix. With ?index=N it is a
// blocking query, as Nomad's: it waits (up to ?wait=, default 5m) until the
// job, its executions or its history changed after index N, so a client
// that passes back the X-Shoal-Index it last saw hears of the next change
// without polling.
func (s *Server) readJob(r *http.Request) (*fsm.ReadTxn, *api.Job, error) {
	q := r.URL.Query()
	minIndex, err := queryUint(q, "index")
	if err != nil {
		return nil, nil, err
	}
	wait, err := queryWait(q, maxWait)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := s.blockingContext(r, wait)
	defer cancel()
	timedOut := false
	for {
		txn, err := s.readTxn(r)
		if err != nil {
			return nil, nil, err
		}
		job, err := txn.ResolveJob(chi.URLParam(r, "id"))
		// Timed out (or the client left): answer with what there is.
		if err != nil || minIndex == 0 || timedOut {
			return txn, job, err
		}
		ws := memtab.NewWatchSet()
		txn.WatchJob(job.ID, ws)
		if txn.JobIndex(job.ID) > minIndex {
			txn.ReleaseWatches(ws)
			return txn, job, nil
		}
		// Wait drops txn: the answer is read afresh.
		timedOut = txn.Wait(ctx, ws) != nil
	}
}

// blockingContext bounds a blocking query's wait: by ?wait=, by the client,
// and by the replica's shutdown. A stopping replica answers its waiting
// readers with what it has (they ask again, elsewhere) instead of letting
// them hold the API drain, and so the restart, for up to its timeout.
func (s *Server) blockingContext(r *http.Request, wait time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	if s.stopping == nil { // a Server not made by New (handler tests)
		return ctx, cancel
	}
	stop := context.AfterFunc(s.stopping, cancel)
	return ctx, func() { stop(); cancel() }
}

// defaultComputeWait is how long a compute node's watch waits for news.
const defaultComputeWait = 30 * time.Second
