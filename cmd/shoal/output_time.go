package main

import (
	"fmt"
	"time"
)

// Time layouts: a time of today shows the clock only, as upstream's tables
// do; an older one its date too.
const (
	layoutToday    = "15:04:05"
	layoutThisYear = "Jan 2 15:04"
	layoutOlder    = "Jan 2 2006"
	layoutFull     = "2006-01-02 15:04:05"
)

// fromNanos reads the API's Unix-nanosecond times; 0 is no time.
func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// shortTime is a time for a table cell.
func (e *cliEnv) shortTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t = t.In(e.location)
	now := e.now().In(e.location)
	switch {
	case sameDay(t, now):
		return t.Format(layoutToday)
	case t.Year() == now.Year():
		return t.Format(layoutThisYear)
	}
	return t.Format(layoutOlder)
}

// fullTime is a time for a describe header.
func (e *cliEnv) fullTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(e.location).Format(layoutFull)
}

// ago is a time relative to now ("27s ago"), as upstream's describe shows
// execution times.
func (e *cliEnv) ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := e.now().Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}
