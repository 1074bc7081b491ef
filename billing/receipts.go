package billing

import (
	"time"
)

// receiptWait bounds how long a page waits for Stripe's receipts: a page
// without its receipt links is better than a page that does not come.
const receiptWait = 3 * time.Second
