// Package testenv is the local AWS harness for tests that talk to AWS APIs.
//
// Endpoint returns AWS_ENDPOINT_URL when it is set (LocalStack, a moto
// server, any emulator). Otherwise it starts one moto_server per test binary
// on a free loopback port, waits until it answers, points the process's
// AWS_ENDPOINT_URL at it with dummy credentials and a region, and stops it
// when the binary exits; a package using it calls Main from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Where no emulator can be found or started the test is skipped with one
// line saying why, except when CI=true: there it fails, so emulator tests
// never silently vanish from CI. Bucket and Stream make a fresh, uniquely
// named bucket or stream per test and remove it afterwards.
//
// Name integration tests TestIntegration… so `make test-integration` runs
// them alone. This package is for tests only; production code gets its AWS
// configuration from package awscfg.
package testenv
