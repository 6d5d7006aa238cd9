module github.com/lambdastack/lambdastack/bench/sketch

go 1.26

require (
	github.com/axiomhq/hyperloglog v0.3.0
	github.com/dgryski/go-metro v0.0.0-20250106013310-edb8663e5e33
	github.com/lambdastack/lambdastack v0.0.0
)

require (
	github.com/kamstrup/intmap v0.5.2 // indirect
	github.com/twmb/murmur3 v1.1.8 // indirect
)

replace github.com/lambdastack/lambdastack => ../..
