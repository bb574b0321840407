package scale

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// series is one soak measurement taken once a minute.
type series struct {
	name string
	ys   []float64
	// slack is the rise a series may show over the judged minutes: a
	// fraction of its mean, but never less than floor (a p99 of a few
	// milliseconds moves by a millisecond on its own on a shared machine).
	frac, floor float64
}

// rise is how much a least-squares line through the samples climbs over
// their span: a series that grows through the run, as opposed to one that
// jumps once and stays, or swings and comes back.
func rise(ys []float64) float64 {
	if len(ys) < 3 {
		return 0
	}
	xs := make([]float64, len(ys))
	for i := range xs {
		xs[i] = float64(i)
	}
	_, slope := stat.LinearRegression(xs, ys, nil, false)
	return slope * float64(len(ys)-1)
}

// trendsUp names a series that rose by more than its slack over the
// samples after skip (the warm-up: the store fills until the first jobs
// age out).
func (s series) trendsUp(skip int) error {
	if len(s.ys) <= skip+2 {
		return nil
	}
	ys := s.ys[skip:]
	slack := max(s.frac*stat.Mean(ys, nil), s.floor)
	if r := rise(ys); r > slack {
		return fmt.Errorf("%s trends upward after minute %d: %v (a fitted rise of %.1f, more than %.1f)", s.name, skip, ys, r, slack)
	}
	return nil
}

func TestTrendsUp(t *testing.T) {
	tests := []struct {
		name string
		ys   []float64
		want bool
	}{
		{"flat", []float64{400, 400, 401, 399, 400, 400}, false},
		{"noisy but level", []float64{400, 430, 390, 420, 395, 410}, false},
		{"one step up, then level", []float64{400, 400, 440, 440, 440, 440}, false},
		{"falls", []float64{500, 480, 460, 440, 420, 400}, false},
		{"climbs steadily", []float64{400, 450, 500, 550, 600, 650}, true},
		{"the stop-19 soak's RSS", []float64{447, 558, 753, 1030, 1378, 1481}, true},
		{"climbs slowly, past the slack", []float64{400, 420, 440, 460, 480, 500}, true},
		{"under the floor", []float64{1, 2, 3, 4, 5, 6}, false},
		{"too short to judge", []float64{400, 900}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := series{name: tt.name, ys: tt.ys, frac: 0.15, floor: 10}
			if got := s.trendsUp(0) != nil; got != tt.want {
				t.Fatalf("trendsUp = %t, want %t (rise %.1f)", got, tt.want, rise(tt.ys))
			}
		})
	}
}
