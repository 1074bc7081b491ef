package packs

// Problem is one row that breaks a ledger invariant.
type Problem struct {
	Rule string
	Row  string
}

func (p Problem) String() string { return p.Rule + ": " + p.Row }
