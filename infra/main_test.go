package main

import (
	"testing"

	"github.com/lambdastack/lambdastack/internal/testenv"
)

// TestMain stops the moto server the workflow tests start.
func TestMain(m *testing.M) { testenv.Main(m) }
