package chaos

import (
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/shoal-io/shoal/test/workload"
)

// historyLine is one operation of history.jsonl.
type historyLine struct {
	Seq          int     `json:"seq"`
	Client       int     `json:"client"`
	Kind         string  `json:"kind"`
	Target       string  `json:"target"`
	Token        string  `json:"token"`
	JobID        string  `json:"job_id,omitempty"`
	Linearizable bool    `json:"linearizable,omitempty"`
	Attempt      int     `json:"attempt,omitempty"`
	Invoke       string  `json:"invoke"`
	Complete     string  `json:"complete"`
	LatencyMS    float64 `json:"latency_ms"`
	Outcome      string  `json:"outcome"`
	Status       int     `json:"status,omitempty"`
	Code         string  `json:"code,omitempty"`
	Error        string  `json:"error,omitempty"`
	Found        *bool   `json:"found,omitempty"`
	JobState     string  `json:"job_state,omitempty"`
	Index        uint64  `json:"index,omitempty"`
}

// WriteHistory writes every operation, one JSON object a line.
func WriteHistory(path string, ops []workload.Op) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, op := range ops {
		l := historyLine{
			Seq: op.Seq, Client: op.Client, Kind: string(op.Kind), Target: op.Target, Token: op.Token, JobID: op.JobID,
			Linearizable: op.Linearizable, Attempt: op.Attempt,
			Invoke: op.Call.UTC().Format(time.RFC3339Nano), Complete: op.Return.UTC().Format(time.RFC3339Nano),
			LatencyMS: float64(op.Return.Sub(op.Call).Microseconds()) / 1000,
			Outcome:   op.Outcome.String(), Status: op.Status, Code: op.Code, Error: op.Err, Index: op.Index,
		}
		if op.Kind == workload.KindDescribe && op.Outcome == workload.OK {
			found := op.Found
			l.Found = &found
			if found {
				l.JobState = op.JobState.String()
			}
		}
		if err := enc.Encode(l); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// Failover is how long the cluster took to acknowledge a create after a
// nemesis began and after it was healed.
type Failover struct {
	Window
	FirstAck, AfterHeal time.Duration // -1: none before the next window
	// MaxGap is the longest time without an acknowledged create from the
	// fault's start until 10s after its heal: how long writes stalled.
	MaxGap    time.Duration
	NewLeader time.Duration // until a replica other than Leader reported leading; -1: none
}

// Failovers measures each window from the history and the term reports.
func Failovers(ops []workload.Op, windows []Window, terms []TermSample) []Failover {
	out := make([]Failover, len(windows))
	for i, w := range windows {
		f := Failover{Window: w, FirstAck: -1, AfterHeal: -1, NewLeader: -1}
		if t, ok := workload.FirstAckAfter(ops, w.Start); ok {
			f.FirstAck = t.Sub(w.Start)
		}
		if t, ok := workload.FirstAckAfter(ops, w.Healed); ok {
			f.AfterHeal = t.Sub(w.Healed)
		}
		f.MaxGap = maxAckGap(ops, w.Start, w.Healed.Add(10*time.Second))
		for _, s := range terms {
			if s.State == "Leader" && s.Replica != w.Leader && !s.At.Before(w.Start) && s.At.Before(w.Healed) &&
				(f.NewLeader < 0 || s.At.Sub(w.Start) < f.NewLeader) {
				f.NewLeader = s.At.Sub(w.Start)
			}
		}
		out[i] = f
	}
	return out
}

// maxAckGap is the longest stretch of [from, to] with no acknowledged create
// returning.
func maxAckGap(ops []workload.Op, from, to time.Time) time.Duration {
	var acks []time.Time
	for _, op := range ops {
		if op.Kind == workload.KindCreate && op.Outcome == workload.OK && op.Return.After(from) && op.Return.Before(to) {
			acks = append(acks, op.Return)
		}
	}
	slices.SortFunc(acks, func(a, b time.Time) int { return a.Compare(b) })
	gap, prev := time.Duration(0), from
	for _, t := range append(acks, to) {
		gap = max(gap, t.Sub(prev))
		prev = t
	}
	return gap
}

func dur(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return d.Round(10 * time.Millisecond).String()
}

// Summary is what summary.txt says.
type Summary struct {
	Seed     uint64
	Nemeses  []string
	Duration time.Duration
	Project  string
	Run      string
	Started  time.Time
	Verdicts []Verdict
	Stats    workload.Stats
	Ops      int
	Batch    int
	Failover []Failover
	Replay   string
	Notes    []string
}

// OK reports whether every checker passed.
func (s Summary) OK() bool {
	for _, v := range s.Verdicts {
		if !v.OK {
			return false
		}
	}
	return len(s.Verdicts) > 0
}

func (s Summary) String() string {
	var b strings.Builder
	verdict := "PASS: no checker found a violation"
	if !s.OK() {
		verdict = "FAIL: at least one checker found a violation"
	}
	fmt.Fprintf(&b, "Shoal chaos run %s — %s\n\n", s.Run, verdict)
	fmt.Fprintf(&b, "started   %s\nduration  %s\nseed      %d\nnemeses   %s\nproject   %s\n",
		s.Started.UTC().Format(time.RFC3339), s.Duration, s.Seed, strings.Join(s.Nemeses, ","), s.Project)
	fmt.Fprintf(&b, "replay    %s\n\n", s.Replay)
	b.WriteString("Checkers\n")
	for _, v := range s.Verdicts {
		fmt.Fprintf(&b, "  %s\n", v)
		for i, d := range v.Details {
			if i == 20 {
				fmt.Fprintf(&b, "        … %d more\n", len(v.Details)-20)
				break
			}
			fmt.Fprintf(&b, "        %s\n", d)
		}
	}
	fmt.Fprintf(&b, "\nOperations: %d recorded (%s); %d batch jobs accepted\n", s.Ops, s.Stats, s.Batch)
	b.WriteString("\nNemeses. new leader: from the fault to another replica reporting itself leader; first ack: to the\n" +
		"first acknowledged create sent after the fault (after the heal, for ack > heal); stall: the longest time\n" +
		"no create was acknowledged, from the fault to 10s after its heal.\n")
	fmt.Fprintf(&b, "  %-9s %-16s %8s %10s %10s %10s %10s  %s\n", "at", "nemesis", "held", "new leader", "first ack", "ack > heal", "stall", "what")
	for _, f := range s.Failover {
		detail := f.Detail
		if f.Err != "" {
			detail += " [not applied: " + f.Err + "]"
		}
		if f.HealErr != "" {
			detail += " [heal: " + f.HealErr + "]"
		}
		fmt.Fprintf(&b, "  %-9s %-16s %8s %10s %10s %10s %10s  %s\n", f.Start.Sub(s.Started).Round(time.Second), f.Nemesis,
			dur(f.End.Sub(f.Start)), dur(f.NewLeader), dur(f.FirstAck), dur(f.AfterHeal), dur(f.MaxGap), detail)
	}
	b.WriteString(perNemesis(s.Failover))
	if len(s.Notes) > 0 {
		b.WriteString("\nNotes\n")
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	b.WriteString("\nFiles: history.jsonl (every operation), porcupine.html (open in a browser), latency.png, windows.json, terms.jsonl\n")
	return b.String()
}

// perNemesis sums up failover times by nemesis: the worst first ack.
func perNemesis(fs []Failover) string {
	type agg struct {
		n                      int
		worstAck, worst, stall time.Duration
		leader                 []time.Duration
	}
	by := map[string]*agg{}
	var order []string
	for _, f := range fs {
		a := by[f.Nemesis]
		if a == nil {
			a = &agg{}
			by[f.Nemesis] = a
			order = append(order, f.Nemesis)
		}
		a.n++
		a.worstAck = max(a.worstAck, f.FirstAck)
		a.worst = max(a.worst, f.AfterHeal)
		a.stall = max(a.stall, f.MaxGap)
		if f.NewLeader >= 0 {
			a.leader = append(a.leader, f.NewLeader)
		}
	}
	slices.Sort(order)
	var b strings.Builder
	b.WriteString("\nPer nemesis (worst case over its windows)\n")
	fmt.Fprintf(&b, "  %-16s %5s %22s %10s %10s %10s\n", "nemesis", "times", "new leader (n, max)", "first ack", "ack > heal", "stall")
	for _, n := range order {
		a := by[n]
		nl := "-"
		if len(a.leader) > 0 {
			nl = fmt.Sprintf("%d, %s", len(a.leader), dur(slices.Max(a.leader)))
		}
		fmt.Fprintf(&b, "  %-16s %5d %22s %10s %10s %10s\n", n, a.n, nl, dur(a.worstAck), dur(a.worst), dur(a.stall))
	}
	return b.String()
}

// PlotLatency draws one dot per operation (latency over time, coloured by
// outcome) with the nemesis windows shaded and labelled.
func PlotLatency(path string, ops []workload.Op, windows []Window, start time.Time, title string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "time since start (s)"
	p.Y.Label.Text = "latency (ms, log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())

	maxLat := 10.0
	pts := map[workload.Outcome]plotter.XYs{}
	for _, op := range ops {
		lat := max(float64(op.Return.Sub(op.Call).Microseconds())/1000, 0.1)
		maxLat = max(maxLat, lat)
		pts[op.Outcome] = append(pts[op.Outcome], plotter.XY{X: op.Call.Sub(start).Seconds(), Y: lat})
	}
	top := maxLat * 3

	for i, w := range windows {
		x0, x1 := w.Start.Sub(start).Seconds(), w.Healed.Sub(start).Seconds()
		poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: 0.1}, {X: x1, Y: 0.1}, {X: x1, Y: top}, {X: x0, Y: top}})
		if err != nil {
			return err
		}
		poly.Color = shade(w.Nemesis)
		poly.LineStyle.Width = 0
		p.Add(poly)
		// Alternate heights so neighbouring labels do not overlap.
		y := top / 1.6
		if i%2 == 1 {
			y = top / 4
		}
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x0, Y: y}}, Labels: []string{w.Nemesis + "\n" + shortDetail(w)}})
		if err != nil {
			return err
		}
		for j := range labels.TextStyle {
			labels.TextStyle[j].Rotation = 0
			labels.TextStyle[j].Font.Size = vg.Points(8)
		}
		p.Add(labels)
	}

	colours := map[workload.Outcome]color.Color{
		workload.OK:      color.RGBA{R: 30, G: 140, B: 60, A: 255},
		workload.Failed:  color.RGBA{R: 200, G: 30, B: 30, A: 255},
		workload.Unknown: color.RGBA{R: 240, G: 150, B: 0, A: 255},
	}
	for _, o := range []workload.Outcome{workload.OK, workload.Unknown, workload.Failed} {
		if len(pts[o]) == 0 {
			continue
		}
		s, err := plotter.NewScatter(pts[o])
		if err != nil {
			return err
		}
		s.GlyphStyle.Color = colours[o]
		s.GlyphStyle.Radius = vg.Points(1.2)
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("%s (%d)", o, len(pts[o])), s)
	}
	p.Legend.Top = true
	p.Legend.Left = false
	p.Y.Min, p.Y.Max = 0.1, top
	return p.Save(vg.Length(max(30, 12+len(windows)))*vg.Centimeter, 14*vg.Centimeter, path)
}

// shortDetail is the first words of a window's detail, for its label.
func shortDetail(w Window) string {
	d := w.Detail
	if i := strings.IndexAny(d, ",;("); i > 0 {
		d = d[:i]
	}
	if len(d) > 28 {
		d = d[:28] + "…"
	}
	return strings.TrimSpace(d)
}

// shade gives each nemesis its own light colour.
func shade(nemesis string) color.Color {
	palette := []color.NRGBA{
		{R: 120, G: 160, B: 255, A: 50}, {R: 255, G: 120, B: 120, A: 50}, {R: 120, G: 220, B: 120, A: 50},
		{R: 230, G: 180, B: 60, A: 50}, {R: 180, G: 120, B: 230, A: 50}, {R: 90, G: 200, B: 200, A: 50},
		{R: 200, G: 200, B: 90, A: 50}, {R: 230, G: 120, B: 200, A: 50}, {R: 150, G: 150, B: 150, A: 50},
	}
	i := slices.Index(AllNemeses, nemesis)
	if i < 0 {
		i = len(palette) - 1
	}
	return palette[i%len(palette)]
}

// writeJSONLines writes values one JSON object a line.
func writeJSONLines[T any](path string, vs []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// reportDir makes chaos-report/<timestamp>/ under root.
func reportDir(root string, at time.Time) (string, error) {
	dir := filepath.Join(root, "chaos-report", at.UTC().Format("20060102-150405"))
	return dir, os.MkdirAll(dir, 0o755)
}
