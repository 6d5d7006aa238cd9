package batch

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// The direct reader reads the files of both engines whole, the columns the
// event rules check included (the differential test in internal/eventpaths
// relies on it to cover the direct reader).
func TestDirectPlanReadsEveryRuleColumn(t *testing.T) {
	for _, name := range []string{"arrow.parquet", "duckdb-1.4.1.parquet"} {
		data, err := os.ReadFile(filepath.Join("testdata", "foreign", name))
		if err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		l, ok := planDirect(pf.MetaData())
		pf.Close()
		if !ok || l.session < 0 || l.received < 0 || l.attrs < 0 || l.src < 0 || l.value < 0 {
			t.Errorf("%s: direct %v, layout %+v: want every column", name, ok, l)
		}
	}
}
