package batch

import "testing"

func TestBuildGC(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	mem := func(n int64) func() int64 { return func() int64 { return n } }
	p, lim, ok := BuildGC(env(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}), func() int64 {
		t.Fatal("asked for the machine's memory inside Lambda")
		return 0
	})
	if !ok || p != BuildGCPercent || lim != 10240<<20*8/10 {
		t.Fatalf("10 GB function: %d, %d, %v", p, lim, ok)
	}
	if p, lim, ok := BuildGC(env(nil), mem(8<<30)); !ok || p != BuildGCPercent || lim != 4<<30 {
		t.Fatalf("command line on 8 GiB: %d, %d, %v; want half the memory", p, lim, ok)
	}
	for _, c := range []struct {
		env     map[string]string
		machine int64
	}{
		{nil, 0},
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "x"}, 8 << 30},
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008", "GOGC": "100"}, 8 << 30},
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008", "GOMEMLIMIT": "1GiB"}, 8 << 30},
		{map[string]string{"GOGC": "off"}, 8 << 30},
	} {
		if _, _, ok := BuildGC(env(c.env), mem(c.machine)); ok {
			t.Errorf("%v, machine %d: changed the collector", c.env, c.machine)
		}
	}
}

func TestMemTotal(t *testing.T) {
	info := "MemFree:         1000 kB\nMemTotal:       24683648 kB\nSwapTotal: 0 kB\n"
	if got := memTotal([]byte(info)); got != 24683648<<10 {
		t.Errorf("memTotal = %d", got)
	}
	for _, bad := range []string{"", "MemTotal: 12 MB\n", "MemTotal: x kB\n", "MemFree: 1 kB\n"} {
		if got := memTotal([]byte(bad)); got != 0 {
			t.Errorf("memTotal(%q) = %d, want 0", bad, got)
		}
	}
	if MachineMemory() <= 0 {
		t.Error("MachineMemory: 0 on Linux")
	}
}
