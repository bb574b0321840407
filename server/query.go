package server

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
)

// queryInt reads a non-negative integer parameter.
func queryInt(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, api.BadRequestf("invalid %s %q: must be a non-negative integer", name, v)
	}
	return n, nil
}

func queryInt64(q url.Values, name string) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, api.BadRequestf("invalid %s %q: must be a non-negative integer", name, v)
	}
	return n, nil
}

func queryUint(q url.Values, name string) (uint64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, api.BadRequestf("invalid %s %q: must be a non-negative integer", name, v)
	}
	return n, nil
}

// queryBool reads a boolean parameter; a bare "?reverse" counts as true.
func queryBool(q url.Values, name string) (bool, error) {
	vs, present := q[name]
	if !present {
		return false, nil
	}
	v := ""
	if len(vs) > 0 {
		v = vs[0]
	}
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, api.BadRequestf("invalid %s %q: must be true or false", name, v)
	}
	return b, nil
}

// maxWait caps a blocking query's wait.
const maxWait = 5 * time.Minute

// queryWait reads a blocking query's wait: a Go duration ("30s") or a
// number of seconds.
func queryWait(q url.Values, def time.Duration) (time.Duration, error) {
	v := q.Get("wait")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, nerr := strconv.Atoi(v)
		if nerr != nil || secs < 0 {
			return 0, api.BadRequestf("invalid wait %q: use a duration such as 30s", v)
		}
		d = time.Duration(secs) * time.Second
	}
	if d < 0 {
		return 0, api.BadRequestf("invalid wait %q: must not be negative", v)
	}
	return min(d, maxWait), nil
}

// queryList splits comma-separated and repeated values: include=a,b&include=c.
func queryList(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, strings.ToLower(part))
			}
		}
	}
	return out
}
