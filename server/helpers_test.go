package server

import (
	"net/url"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/membership"
)

func TestQueryParsing(t *testing.T) {
	tests := []struct {
		query   string
		check   func(url.Values) (any, error)
		want    any
		wantErr bool
	}{
		{"limit=5", func(q url.Values) (any, error) { return queryInt(q, "limit", 10) }, 5, false},
		{"", func(q url.Values) (any, error) { return queryInt(q, "limit", 10) }, 10, false},
		{"limit=-1", func(q url.Values) (any, error) { return queryInt(q, "limit", 10) }, nil, true},
		{"limit=ten", func(q url.Values) (any, error) { return queryInt(q, "limit", 10) }, nil, true},
		{"reverse", func(q url.Values) (any, error) { return queryBool(q, "reverse") }, true, false},
		{"reverse=false", func(q url.Values) (any, error) { return queryBool(q, "reverse") }, false, false},
		{"reverse=1", func(q url.Values) (any, error) { return queryBool(q, "reverse") }, true, false},
		{"reverse=maybe", func(q url.Values) (any, error) { return queryBool(q, "reverse") }, nil, true},
		{"wait=30s", func(q url.Values) (any, error) { return queryWait(q, time.Second) }, 30 * time.Second, false},
		{"wait=45", func(q url.Values) (any, error) { return queryWait(q, time.Second) }, 45 * time.Second, false},
		{"wait=1h", func(q url.Values) (any, error) { return queryWait(q, time.Second) }, maxWait, false},
		{"wait=soon", func(q url.Values) (any, error) { return queryWait(q, time.Second) }, nil, true},
		{"index=12", func(q url.Values) (any, error) { return queryUint(q, "index") }, uint64(12), false},
		{"index=-3", func(q url.Values) (any, error) { return queryUint(q, "index") }, nil, true},
		{"include=history,Executions&include=x", func(q url.Values) (any, error) { return len(queryList(q, "include")), nil }, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := tt.check(q)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %t", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPagesCoverEveryItemOnce(t *testing.T) {
	items := []string{"e", "b", "d", "a", "c"}
	for _, reverse := range []bool{false, true} {
		for limit := 1; limit <= 6; limit++ {
			tok := offsetToken{List: "test", OrderBy: "id", Reverse: reverse, Limit: limit}
			var seen []string
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("paging does not end")
				}
				got, next := sortPage(items, tok, func(a, b string) int { return 0 }, func(s string) string { return s })
				seen = append(seen, got...)
				if next == "" {
					break
				}
				var err error
				if tok, err = decodeOffsetToken(next, "test"); err != nil {
					t.Fatal(err)
				}
			}
			want := "abcde"
			if reverse {
				want = "edcba"
			}
			if got := join(seen); got != want {
				t.Fatalf("reverse=%t limit=%d: pages gave %s, want %s", reverse, limit, got, want)
			}
		}
	}
	if _, err := decodeOffsetToken("!!", "test"); err == nil {
		t.Fatal("accepted a broken token")
	}
	if _, err := decodeOffsetToken(offsetToken{List: "nodes"}.encode(), "executions"); err == nil {
		t.Fatal("accepted another list's token")
	}
}

func join(ss []string) string {
	out := ""
	for _, s := range ss {
		out += s
	}
	return out
}

func TestMultiaddrs(t *testing.T) {
	tests := []struct{ hostport, multi string }{
		{"127.0.0.1:1234", "/ip4/127.0.0.1/tcp/1234"},
		{"o1:1234", "/dns4/o1/tcp/1234"},
		{"[::1]:1234", "/ip6/::1/tcp/1234"},
	}
	for _, tt := range tests {
		if got := multiaddr(tt.hostport); got != tt.multi {
			t.Errorf("multiaddr(%s) = %s, want %s", tt.hostport, got, tt.multi)
		}
		back := hostPortFromMultiaddr(tt.multi)
		if back != tt.hostport {
			t.Errorf("hostPortFromMultiaddr(%s) = %s, want %s", tt.multi, back, tt.hostport)
		}
	}
	if got := hostPortFromMultiaddr("/ip4/1.2.3.4/udp/9"); got != "" {
		t.Errorf("a UDP address gave %q", got)
	}
}

func TestRemovalKeepsQuorum(t *testing.T) {
	voters := func(ids ...string) []raft.Server {
		var out []raft.Server
		for _, id := range ids {
			out = append(out, raft.Server{ID: raft.ServerID(id), Suffrage: raft.Voter})
		}
		return out
	}
	members := func(alive ...string) map[string]membership.Member {
		m := map[string]membership.Member{}
		for _, id := range []string{"o1", "o2", "o3", "o4", "o5"} {
			m[id] = membership.Member{ID: id, Status: membership.StatusDead}
		}
		for _, id := range alive {
			m[id] = membership.Member{ID: id, Status: membership.StatusAlive}
		}
		return m
	}
	tests := []struct {
		name    string
		servers []raft.Server
		members map[string]membership.Member
		remove  string
		want    bool
	}{
		{"one dead of three", voters("o1", "o2", "o3"), members("o1", "o2"), "o3", true},
		{"two dead of three: the one left cannot decide alone", voters("o1", "o2", "o3"), members("o1"), "o3", false},
		{"two dead of five", voters("o1", "o2", "o3", "o4", "o5"), members("o1", "o2", "o3"), "o5", true},
		{"three dead of five", voters("o1", "o2", "o3", "o4", "o5"), members("o1", "o2"), "o5", false},
		{"the last voter", voters("o1"), members(), "o1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := removalKeepsQuorum(tt.servers, tt.members, tt.remove); got != tt.want {
				t.Fatalf("got %t, want %t", got, tt.want)
			}
		})
	}
}
