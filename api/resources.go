package api

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Parse turns what a task asks for into amounts: CPU in cores, written the
// Kubernetes way ("500m", "2", "0.5"); Memory and Disk in bytes, written as
// human sizes with decimal or binary units ("1gb" is 10^9, "1gib" and "1Gi"
// are 2^30, "512mb", "1.5gb", or plain bytes); GPU a whole count. An empty
// string is 0, and so is a nil ResourcesConfig. Case and spaces do not matter.
// Every bad field is reported, one per line, naming the field and the value
// as written; the error is an *Error of kind ErrBadRequest.
func (r *ResourcesConfig) Parse() (Resources, error) {
	if r == nil {
		return Resources{}, nil
	}
	var res Resources
	var bad []string
	var err error
	if res.CPU, err = parseCPU(r.CPU); err != nil {
		bad = append(bad, fmt.Sprintf("invalid CPU value: %q", r.CPU))
	}
	if res.Memory, err = parseBytes(r.Memory); err != nil {
		bad = append(bad, fmt.Sprintf("invalid memory value: %q", r.Memory))
	}
	if res.Disk, err = parseBytes(r.Disk); err != nil {
		bad = append(bad, fmt.Sprintf("invalid disk value: %q", r.Disk))
	}
	if res.GPU, err = parseCount(r.GPU); err != nil {
		bad = append(bad, fmt.Sprintf("invalid GPU value: %q", r.GPU))
	}
	if len(bad) > 0 {
		return Resources{}, ValidationErrorf("%s", strings.Join(bad, "\n"))
	}
	return res, nil
}

// errBadQuantity is only ever seen by Parse, which replaces it with a message
// naming the field.
var errBadQuantity = errors.New("bad quantity")

func parseCPU(s string) (float64, error) {
	s = compactLower(s)
	if s == "" {
		return 0, nil
	}
	num, scale := s, 1.0
	if rest, ok := strings.CutSuffix(s, "m"); ok {
		num, scale = rest, 1000
	}
	if !isDecimal(num) {
		return 0, errBadQuantity
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, errBadQuantity
	}
	return f / scale, nil
}

// byteUnits are the size suffixes Parse understands, after lowercasing:
// decimal ones as humanize (and upstream v1.5) reads them, binary ones with
// an "i", as Kubernetes writes them ("Gi") or in full ("gib").
var byteUnits = map[string]uint64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "ti": 1 << 40, "tib": 1 << 40,
	"p": 1e15, "pb": 1e15, "pi": 1 << 50, "pib": 1 << 50,
	"e": 1e18, "eb": 1e18, "ei": 1 << 60, "eib": 1 << 60,
}

func parseBytes(s string) (uint64, error) {
	s = compactLower(s)
	if s == "" {
		return 0, nil
	}
	split := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if split < 0 {
		split = len(s)
	}
	num, unit := s[:split], s[split:]
	mult, ok := byteUnits[unit]
	if !ok || !isDecimal(num) {
		return 0, errBadQuantity
	}
	if n, err := strconv.ParseUint(num, 10, 64); err == nil {
		if n > math.MaxUint64/mult {
			return 0, errBadQuantity
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, errBadQuantity
	}
	v := math.Round(f * float64(mult))
	if v >= math.MaxUint64 { // float64(MaxUint64) is 2^64: not representable
		return 0, errBadQuantity
	}
	return uint64(v), nil
}

func parseCount(s string) (uint64, error) {
	s = compactLower(s)
	if s == "" {
		return 0, nil
	}
	if !isDecimal(s) || strings.Contains(s, ".") {
		return 0, errBadQuantity
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, errBadQuantity
	}
	return n, nil
}

// isDecimal reports whether s is digits with at most one decimal point and at
// least one digit ("2", "0.5", ".5", "2."). strconv alone would also take
// "inf", "1e3", hex floats and underscores.
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// FormatBytes renders a size for people, in binary units with one decimal
// as upstream's CLI shows node capacity ("18.8 GB" for 20220821504 bytes);
// below 1 KB it prints whole bytes ("512 B").
func FormatBytes(n uint64) string {
	units := []string{"KB", "MB", "GB", "TB", "PB", "EB"}
	if n < 1<<10 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n) / (1 << 10)
	i := 0
	for v >= 1<<10 && i < len(units)-1 {
		v /= 1 << 10
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
