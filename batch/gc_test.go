package batch

import "testing"

func TestLambdaGC(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	p, lim, ok := LambdaGC(env(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}))
	if !ok || p != LambdaGCPercent || lim != 10240<<20*8/10 {
		t.Fatalf("10 GB function: %d, %d, %v", p, lim, ok)
	}
	for _, kv := range []map[string]string{
		{},
		{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "x"},
		{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008", "GOGC": "100"},
		{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008", "GOMEMLIMIT": "1GiB"},
	} {
		if _, _, ok := LambdaGC(env(kv)); ok {
			t.Errorf("%v: changed the collector", kv)
		}
	}
}
