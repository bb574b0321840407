package fsm

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
	"k8s.io/apimachinery/pkg/labels"
)

func TestResolveJob(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"j-1", "j-10", "j-abc", "j-b1", "j-b2", "j-b3", "j-b4", "j-b5", "j-b6"} {
		h.registerJob(id, api.JobTypeBatch)
	}
	tests := []struct {
		in       string
		want     string
		wantKind error
	}{
		{in: "j-1", want: "j-1"}, // exact wins over being a prefix of j-10
		{in: "j-10", want: "j-10"},
		{in: "j-a", want: "j-abc"},
		{in: "j-ab", want: "j-abc"},
		{in: "j-b", wantKind: api.ErrAmbiguousID},
		{in: "j-x", wantKind: api.ErrNotFound},
		{in: "j-abcd", wantKind: api.ErrNotFound},
		{in: "", wantKind: api.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			job, err := h.txn().ResolveJob(tt.in)
			if tt.wantKind != nil {
				if !errors.Is(err, tt.wantKind) {
					t.Fatalf("err = %v, want %v", err, tt.wantKind)
				}
				return
			}
			if err != nil || job.ID != tt.want {
				t.Fatalf("got %v, %v; want %s", job, err, tt.want)
			}
		})
	}

	_, err := h.txn().ResolveJob("j-b")
	var apiErr *api.Error
	if !errors.As(err, &apiErr) || apiErr.Code != api.CodeMultipleFound || apiErr.Hint != "use the full job ID" ||
		apiErr.Component != api.ComponentJobStore {
		t.Fatalf("ambiguous error %#v", err)
	}
	if want := "multiple jobs found for ID prefix j-b: j-b1, j-b2, j-b3, j-b4, j-b5, ..."; apiErr.Message != want {
		t.Fatalf("message %q, want %q", apiErr.Message, want)
	}
	if _, err := h.txn().ResolveJob("j-q"); err.Error() != "job not found: j-q" {
		t.Fatalf("not found message %q", err)
	}
}

func TestResolveNode(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"n-alpha", "n-beta", "n-bravo"} {
		h.registerNode(id, cpu(1))
	}
	if n, err := h.txn().ResolveNode("n-a"); err != nil || n.NodeID != "n-alpha" {
		t.Fatalf("got %v, %v", n, err)
	}
	if _, err := h.txn().ResolveNode("n-b"); !errors.Is(err, api.ErrAmbiguousID) || !strings.Contains(err.Error(), "n-beta, n-bravo") {
		t.Fatalf("err = %v", err)
	}
	if _, err := h.txn().ResolveNode("n-c"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

// listFixture registers jobs with create times that repeat (ties are broken
// by ID) and modify times in another order, in two namespaces.
func listFixture(t *testing.T, n int) *harness {
	h := newHarness(t)
	for i := range n {
		job := newJob(fmt.Sprintf("j-%02d", (i*7)%n), api.JobTypeBatch, t0+int64(i/3)) // three jobs per create time
		if i%2 == 1 {
			job.Namespace = "other"
		}
		job.Labels = map[string]string{"parity": []string{"even", "odd"}[i%2], "tier": fmt.Sprint(i % 3)}
		job.ModifyTime = t0 + int64((n-i)%5)
		ok[JobRegisterResult](h, &JobRegisterRequest{Job: job, EvalID: "ev-" + job.ID, Now: job.CreateTime})
	}
	return h
}

func sortedJobs(jobs []*api.Job, order string, reverse bool) []string {
	jobs = slices.Clone(jobs)
	slices.SortFunc(jobs, func(a, b *api.Job) int {
		var c int
		switch order {
		case orderCreate:
			c = cmp.Compare(a.CreateTime, b.CreateTime)
		case orderModify:
			c = cmp.Compare(a.ModifyTime, b.ModifyTime)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if reverse {
			c = -c
		}
		return c
	})
	return jobIDs(jobs)
}

func jobIDs(jobs []*api.Job) []string {
	ids := make([]string, 0, len(jobs))
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

// pageAll lists every page of q and returns the IDs in order, calling
// between(page) after each page.
func pageAll(t *testing.T, h *harness, q JobQuery, between func(page int)) []string {
	t.Helper()
	var ids []string
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("pagination does not end")
		}
		jobs, next, err := h.txn().ListJobs(q)
		if err != nil {
			t.Fatal(err)
		}
		if q.Limit > 0 && len(jobs) > q.Limit {
			t.Fatalf("page of %d jobs, limit %d", len(jobs), q.Limit)
		}
		ids = append(ids, jobIDs(jobs)...)
		if next == "" {
			return ids
		}
		if len(jobs) == 0 {
			t.Fatal("empty page with a next token")
		}
		q.After = next
		if between != nil {
			between(page)
		}
	}
}

func TestListJobsPagination(t *testing.T) {
	const n = 23
	h := listFixture(t, n)
	all, _, err := h.txn().ListJobs(JobQuery{})
	if err != nil || len(all) != n {
		t.Fatalf("listed %d jobs, %v", len(all), err)
	}
	for _, order := range []string{orderCreate, orderModify, orderID} {
		for _, reverse := range []bool{false, true} {
			for _, limit := range []int{0, 1, 4, 7, n, n + 5} {
				for _, ns := range []string{"", "*", "other"} {
					name := fmt.Sprintf("%s/reverse=%t/limit=%d/ns=%q", order, reverse, limit, ns)
					t.Run(name, func(t *testing.T) {
						want := all
						if ns == "other" {
							want = slices.DeleteFunc(slices.Clone(all), func(j *api.Job) bool { return j.Namespace != ns })
						}
						got := pageAll(t, h, JobQuery{Namespace: ns, OrderBy: order, Reverse: reverse, Limit: limit}, nil)
						if wantIDs := sortedJobs(want, order, reverse); !slices.Equal(got, wantIDs) {
							t.Fatalf("pages gave\n%v\nwant\n%v", got, wantIDs)
						}
					})
				}
			}
		}
	}
}

func TestListJobsPaginationWhileCreating(t *testing.T) {
	for _, order := range []string{orderCreate, orderModify, orderID} {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reverse=%t", order, reverse), func(t *testing.T) {
				h := listFixture(t, 20)
				before, _, _ := h.txn().ListJobs(JobQuery{})
				created := 0
				got := pageAll(t, h, JobQuery{OrderBy: order, Reverse: reverse, Limit: 3}, func(page int) {
					// New jobs land before, between and after the rows listed so far.
					for _, ct := range []int64{t0 - 1, t0 + 3, t0 + 100} {
						job := newJob(fmt.Sprintf("j-new-%d-%d", page, ct-t0), api.JobTypeBatch, ct)
						ok[JobRegisterResult](h, &JobRegisterRequest{Job: job, EvalID: "ev-" + job.ID, Now: ct})
						created++
					}
				})
				seen := make(map[string]int)
				for _, id := range got {
					seen[id]++
				}
				for id, c := range seen {
					if c > 1 {
						t.Fatalf("%s listed %d times", id, c)
					}
				}
				for _, j := range before {
					if seen[j.ID] != 1 {
						t.Fatalf("%s (present before the first page) listed %d times", j.ID, seen[j.ID])
					}
				}
				if created == 0 {
					t.Fatal("no job was created between pages")
				}
			})
		}
	}
}

func TestListJobsFilters(t *testing.T) {
	h := listFixture(t, 12)
	selector := func(s string) labels.Selector {
		sel, err := labels.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return sel
	}
	tests := []struct {
		name  string
		q     JobQuery
		match func(*api.Job) bool
	}{
		{"namespace", JobQuery{Namespace: "default"}, func(j *api.Job) bool { return j.Namespace == "default" }},
		{"unknown namespace", JobQuery{Namespace: "nope"}, func(*api.Job) bool { return false }},
		{"label equality", JobQuery{Selector: selector("parity=odd")}, func(j *api.Job) bool { return j.Labels["parity"] == "odd" }},
		{"label set", JobQuery{Selector: selector("tier in (0,2)")}, func(j *api.Job) bool { return j.Labels["tier"] != "1" }},
		{"label and namespace, paged", JobQuery{Namespace: "other", Selector: selector("tier!=1"), Limit: 2},
			func(j *api.Job) bool { return j.Namespace == "other" && j.Labels["tier"] != "1" }},
		{"empty selector", JobQuery{Selector: labels.Everything()}, func(*api.Job) bool { return true }},
	}
	all, _, _ := h.txn().ListJobs(JobQuery{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := sortedJobs(slices.DeleteFunc(slices.Clone(all), func(j *api.Job) bool { return !tt.match(j) }), orderCreate, false)
			got := pageAll(t, h, tt.q, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func TestListJobsBadInput(t *testing.T) {
	h := listFixture(t, 5)
	_, next, err := h.txn().ListJobs(JobQuery{OrderBy: "id", Limit: 2})
	if err != nil || next == "" {
		t.Fatalf("next %q, %v", next, err)
	}
	tests := []struct {
		name string
		q    JobQuery
	}{
		{"bad order", JobQuery{OrderBy: "state"}},
		{"negative limit", JobQuery{Limit: -1}},
		{"garbage token", JobQuery{After: "!!!"}},
		{"base64 but not ours", JobQuery{After: "aGVsbG8"}},
		{"token of another order", JobQuery{OrderBy: "create_time", After: next}},
		{"token of another direction", JobQuery{OrderBy: "id", Reverse: true, After: next}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := h.txn().ListJobs(tt.q); !errors.Is(err, api.ErrBadRequest) {
				t.Fatalf("err = %v, want bad request", err)
			}
		})
	}
	// A token alone carries its order.
	if jobs, _, err := h.txn().ListJobs(JobQuery{After: next, Limit: 10}); err != nil || len(jobs) != 3 {
		t.Fatalf("token without order_by: %d jobs, %v", len(jobs), err)
	}
	// Aliases name the same orders.
	for alias, order := range map[string]string{"created_at": orderCreate, "modified_at": orderModify} {
		a, _, err1 := h.txn().ListJobs(JobQuery{OrderBy: alias})
		b, _, err2 := h.txn().ListJobs(JobQuery{OrderBy: order})
		if err1 != nil || err2 != nil || !slices.Equal(jobIDs(a), jobIDs(b)) {
			t.Fatalf("%s differs from %s", alias, order)
		}
	}
}
