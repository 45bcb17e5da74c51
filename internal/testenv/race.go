//go:build race

package testenv

// RaceEnabled reports whether the race detector is on. Its shadow memory
// counts in a process's RSS, so a test that bounds the RSS cannot under it.
const RaceEnabled = true
