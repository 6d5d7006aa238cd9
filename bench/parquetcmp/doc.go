// Package parquetcmp compares two Parquet writers on speed-layer objects:
// apache/arrow-go/v18 pqarrow (what internal/views uses) and
// xitongsys/parquet-go. It is a separate module so the second writer never
// becomes a dependency of lambdastack itself.
//
//	cd bench/parquetcmp && go test -run . -bench . -cpu 1 -count 5
package parquetcmp
