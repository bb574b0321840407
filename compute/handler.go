package compute

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/publisher"
)

func (n *Node) newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /results/{file}", n.serveResults)
	mux.HandleFunc("GET /logs/{id}", n.serveLogs)
	mux.Handle("GET /metrics", n.metrics.handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, api.NewError(api.ErrNotFound, api.CodeRouteNotFound, "ComputeNode",
			"no route %s %s on this compute node", r.Method, r.URL.Path))
	})
	return mux
}

// serveResults serves a published tarball.
func (n *Node) serveResults(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	id, ok := strings.CutSuffix(file, ".tar.gz")
	if !ok || !validID(id) {
		writeError(w, api.NotFoundf("ComputeNode", "no results %q on this node", file))
		return
	}
	f, err := os.Open(filepath.Join(resultsDir(n.cfg.DataDir), publisher.TarballName(id)))
	if err != nil {
		writeError(w, api.NotFoundf("ComputeNode", "no results for execution %s on this node", id))
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	http.ServeContent(w, r, file, info.ModTime(), f)
}

// boolParam reads an optional boolean query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, api.BadRequestf("invalid %s=%q: want true or false", name, v)
	}
	return b, nil
}

func writeError(w http.ResponseWriter, err error) {
	status, body := api.StatusFor(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
