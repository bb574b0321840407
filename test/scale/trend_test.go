package scale

import (
	"fmt"
	"math"
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

// fit is a least-squares line through the samples, one a minute: rise is
// how much it climbs over their span, and t how many standard errors its
// slope is from flat.
func fit(ys []float64) (rise, t float64) {
	n := len(ys)
	if n < 3 {
		return 0, 0
	}
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i)
	}
	alpha, beta := stat.LinearRegression(xs, ys, nil, false)
	var ssr, sxx float64
	xm := stat.Mean(xs, nil)
	for i, y := range ys {
		r := y - (alpha + beta*xs[i])
		ssr += r * r
		sxx += (xs[i] - xm) * (xs[i] - xm)
	}
	se := math.Sqrt(ssr / float64(n-2) / sxx)
	switch {
	case se > 0:
		t = beta / se
	case beta > 0:
		t = math.Inf(1)
	}
	return beta * float64(n-1), t
}

// minTrendT is how far from flat (in standard errors) a slope must be to
// count: about 95% one-sided for the 7 to 15 minutes a soak judges. A data
// folder's sawtooth (log segments pile up until a snapshot truncates them)
// or one slow minute of p99 then does not read as growth.
const minTrendT = 2.0

// trendsUp names a series that, after skip samples (the warm-up: the store
// fills until the first jobs age out), grows: its fitted line rises by more
// than its slack, and clearly so against the series' own swings.
func (s series) trendsUp(skip int) error {
	if len(s.ys) <= skip+2 {
		return nil
	}
	ys := s.ys[skip:]
	slack := max(s.frac*stat.Mean(ys, nil), s.floor)
	if r, t := fit(ys); r > slack && t > minTrendT {
		return fmt.Errorf("%s trends upward after minute %d: %v (a fitted rise of %.1f, more than %.1f, %.1f standard errors from flat)", s.name, skip, ys, r, slack, t)
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
		// The 250/s soak of stop 20: bounded, but the last sample is high.
		{"a data folder's sawtooth", []float64{145, 209, 197, 170, 170, 169, 236}, false},
		{"a p99 with one slow minute", []float64{7.1, 6.8, 178, 32, 130, 82, 43}, false},
		// The 500/s soak of stop 20.
		{"the stop-20 soak's data folder", []float64{362, 518, 475, 538, 601, 655, 706, 909, 866, 883, 871, 857, 957, 988, 1244}, true},
		{"a perfectly straight climb", []float64{100, 200, 300, 400, 500}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := series{name: tt.name, ys: tt.ys, frac: 0.15, floor: 10}
			if got := s.trendsUp(0) != nil; got != tt.want {
				r, tv := fit(tt.ys)
				t.Fatalf("trendsUp = %t, want %t (rise %.1f, t %.1f)", got, tt.want, r, tv)
			}
		})
	}
}
