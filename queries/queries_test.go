package queries_test

import (
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/queries"
)

func TestAllQueriesAreNamedAndDescribed(t *testing.T) {
	qs, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) == 0 {
		t.Fatal("no queries embedded")
	}
	for _, q := range qs {
		t.Run(q.Name, func(t *testing.T) {
			if q.Name == "" || strings.ContainsAny(q.Name, "/. ") {
				t.Errorf("bad query name %q", q.Name)
			}
			if q.Description == "" {
				t.Errorf("%s.sql has no leading -- description", q.Name)
			}
			if !strings.Contains(strings.ToUpper(q.SQL), "SELECT") {
				t.Errorf("%s.sql has no SELECT", q.Name)
			}
		})
	}
}
