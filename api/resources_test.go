package api

import (
	"errors"
	"testing"
)

func TestResourcesParse(t *testing.T) {
	cases := []struct {
		name string
		in   ResourcesConfig
		want Resources
		err  string
	}{
		{"empty", ResourcesConfig{}, Resources{}, ""},
		{"millicores", ResourcesConfig{CPU: "500m"}, Resources{CPU: 0.5}, ""},
		{"cores", ResourcesConfig{CPU: "2"}, Resources{CPU: 2}, ""},
		{"fractional cores", ResourcesConfig{CPU: "0.5"}, Resources{CPU: 0.5}, ""},
		{"leading dot", ResourcesConfig{CPU: ".25"}, Resources{CPU: 0.25}, ""},
		{"upper case and spaces", ResourcesConfig{CPU: " 250 M "}, Resources{CPU: 0.25}, ""},
		{"decimal gigabyte", ResourcesConfig{Memory: "1gb"}, Resources{Memory: 1e9}, ""},
		{"binary gigabyte", ResourcesConfig{Memory: "1gib"}, Resources{Memory: 1 << 30}, ""},
		{"kubernetes Gi", ResourcesConfig{Memory: "1Gi"}, Resources{Memory: 1 << 30}, ""},
		{"upstream default", ResourcesConfig{Memory: "1Gb"}, Resources{Memory: 1e9}, ""},
		{"megabytes", ResourcesConfig{Memory: "512mb"}, Resources{Memory: 512e6}, ""},
		{"mebibytes", ResourcesConfig{Memory: "512Mi"}, Resources{Memory: 512 << 20}, ""},
		{"plain bytes", ResourcesConfig{Disk: "1048576"}, Resources{Disk: 1 << 20}, ""},
		{"bytes suffix", ResourcesConfig{Disk: "100b"}, Resources{Disk: 100}, ""},
		{"fractional size", ResourcesConfig{Disk: "1.5gb"}, Resources{Disk: 15e8}, ""},
		{"fractional binary size", ResourcesConfig{Disk: "0.5 GiB"}, Resources{Disk: 1 << 29}, ""},
		{"kilobytes", ResourcesConfig{Memory: "64k"}, Resources{Memory: 64000}, ""},
		{"terabytes", ResourcesConfig{Disk: "2TB"}, Resources{Disk: 2e12}, ""},
		{"GPU", ResourcesConfig{GPU: "2"}, Resources{GPU: 2}, ""},
		{"everything", ResourcesConfig{CPU: "100m", Memory: "256mb", Disk: "1gb", GPU: "1"},
			Resources{CPU: 0.1, Memory: 256e6, Disk: 1e9, GPU: 1}, ""},
		{"bad CPU", ResourcesConfig{CPU: "abc"}, Resources{}, `invalid CPU value: "abc"`},
		{"negative CPU", ResourcesConfig{CPU: "-1"}, Resources{}, `invalid CPU value: "-1"`},
		{"CPU in exponent form", ResourcesConfig{CPU: "1e3"}, Resources{}, `invalid CPU value: "1e3"`},
		{"infinite CPU", ResourcesConfig{CPU: "inf"}, Resources{}, `invalid CPU value: "inf"`},
		{"two dots", ResourcesConfig{CPU: "1.2.3"}, Resources{}, `invalid CPU value: "1.2.3"`},
		{"bad memory unit", ResourcesConfig{Memory: "12xb"}, Resources{}, `invalid memory value: "12xb"`},
		{"unit only", ResourcesConfig{Memory: "gb"}, Resources{}, `invalid memory value: "gb"`},
		{"negative disk", ResourcesConfig{Disk: "-1gb"}, Resources{}, `invalid disk value: "-1gb"`},
		{"overflow", ResourcesConfig{Disk: "20eb"}, Resources{}, `invalid disk value: "20eb"`},
		{"fractional overflow", ResourcesConfig{Disk: "18446744073709551616.5"}, Resources{}, `invalid disk value: "18446744073709551616.5"`},
		{"fractional GPU", ResourcesConfig{GPU: "1.5"}, Resources{}, `invalid GPU value: "1.5"`},
		{"GPU with unit", ResourcesConfig{GPU: "1k"}, Resources{}, `invalid GPU value: "1k"`},
		{"every bad field", ResourcesConfig{CPU: "x", Memory: "y", Disk: "z", GPU: "w"}, Resources{},
			"invalid CPU value: \"x\"\ninvalid memory value: \"y\"\ninvalid disk value: \"z\"\ninvalid GPU value: \"w\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Parse()
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if !errors.Is(err, ErrBadRequest) {
					t.Errorf("error is not ErrBadRequest")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestResourcesParseNil(t *testing.T) {
	var r *ResourcesConfig
	got, err := r.Parse()
	if err != nil || !got.IsZero() {
		t.Fatalf("nil config: %+v, %v", got, err)
	}
}

func TestFormatBytes(t *testing.T) {
	cases := []struct {
		in   uint64
		want string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{1023, "1023 B"},
		{1024, "1.0 KB"},
		{1536, "1.5 KB"},
		{1 << 20, "1.0 MB"},
		{20220821504, "18.8 GB"},   // upstream's node list
		{202896326656, "189.0 GB"}, // ditto
		{1 << 40, "1.0 TB"},
		{1<<64 - 1, "16.0 EB"},
	}
	for _, tc := range cases {
		if got := FormatBytes(tc.in); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
