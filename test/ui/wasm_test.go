package ui_test

// A few hand-assembled WASI modules, so the browser test runs real jobs
// with output on the wasm engine without a compiler or network: one prints
// lines and exits, one prints a line every half second until stopped.

// Memory layout shared by both modules.
const (
	memIovec  = 0   // iovec {ptr, len} for fd_write
	memNwrite = 16  // fd_write's nwritten
	memNevent = 32  // poll_oneoff's nevents
	memText   = 64  // the text to print
	memSub    = 256 // one clock subscription for poll_oneoff
	memEvent  = 512 // poll_oneoff's event out
)

func uleb(n uint64) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
	}
}

func sleb(n int64) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if (n == 0 && b&0x40 == 0) || (n == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

func name(s string) []byte { return append(uleb(uint64(len(s))), s...) }

func vec(items ...[]byte) []byte {
	out := uleb(uint64(len(items)))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

func section(id byte, body []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(body)))...), body...)
}

func i32const(n int64) []byte { return append([]byte{0x41}, sleb(n)...) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func le32(n uint32) []byte { return []byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)} }
func le64(n uint64) []byte { return append(le32(uint32(n)), le32(uint32(n>>32))...) }

// wasiModule prints text to stdout; with loop set it prints it again every
// sleep nanoseconds, forever.
func wasiModule(text string, loop bool, sleepNs uint64) []byte {
	fnType := cat([]byte{0x60}, vec([]byte{0x7f}, []byte{0x7f}, []byte{0x7f}, []byte{0x7f}), vec([]byte{0x7f})) // (i32 i32 i32 i32) -> i32
	startType := cat([]byte{0x60}, vec(), vec())
	imports := vec(
		cat(name("wasi_snapshot_preview1"), name("fd_write"), []byte{0x00}, uleb(0)),
		cat(name("wasi_snapshot_preview1"), name("poll_oneoff"), []byte{0x00}, uleb(0)),
	)
	write := cat(i32const(1), i32const(memIovec), i32const(1), i32const(memNwrite), []byte{0x10, 0x00, 0x1a})
	body := write
	if loop {
		sleep := cat(i32const(memSub), i32const(memEvent), i32const(1), i32const(memNevent), []byte{0x10, 0x01, 0x1a})
		body = cat([]byte{0x03, 0x40}, write, sleep, []byte{0x0c, 0x00, 0x0b})
	}
	code := cat(vec(), body, []byte{0x0b}) // no locals
	// A relative clock subscription: userdata, tag 0 (clock), then the
	// clock at offset 16: id 1 (monotonic), timeout, precision, flags 0.
	sub := cat(le64(0), []byte{0, 0, 0, 0, 0, 0, 0, 0}, le32(1), le32(0), le64(sleepNs), le64(0), []byte{0, 0, 0, 0, 0, 0, 0, 0})
	data := vec(
		cat([]byte{0x00}, i32const(memIovec), []byte{0x0b}, name(string(cat(le32(memText), le32(uint32(len(text))))))),
		cat([]byte{0x00}, i32const(memText), []byte{0x0b}, name(text)),
		cat([]byte{0x00}, i32const(memSub), []byte{0x0b}, name(string(sub))),
	)
	return cat(
		[]byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00},
		section(1, vec(fnType, startType)),
		section(2, imports),
		section(3, vec(uleb(1))),
		section(5, vec([]byte{0x00, 0x01})),
		section(7, vec(cat(name("memory"), []byte{0x02}, uleb(0)), cat(name("_start"), []byte{0x00}, uleb(2)))),
		section(10, vec(cat(uleb(uint64(len(code))), code))),
		section(11, data),
	)
}
