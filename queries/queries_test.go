package queries_test

import (
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/queries"
)

func TestAllQueriesHaveHeaders(t *testing.T) {
	all, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no queries embedded")
	}
	for _, q := range all {
		if !strings.Contains(strings.ToUpper(q.SQL), "SELECT") {
			t.Errorf("%s: no SELECT", q.Name)
		}
		if strings.Contains(q.SQL, ";") {
			t.Errorf("%s: Athena named queries take one statement without ';'", q.Name)
		}
	}
	if _, err := queries.Get("no_such_query"); err == nil {
		t.Fatal("Get of an unknown name succeeded")
	}
}
