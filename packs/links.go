package packs

import (
	"time"
)

// LinkTTL is how long a client link lives unless the coach says otherwise.
const LinkTTL = 7 * 24 * time.Hour

// freshLinkEvery bounds fresh links: at most one email per client in each
// such window, however often the button is pressed.
const freshLinkEvery = 10 * time.Minute
