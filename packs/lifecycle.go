package packs

// Ended reports whether a pack in this status expects no more money.
func Ended(status Status) bool { return status.Ended() }
