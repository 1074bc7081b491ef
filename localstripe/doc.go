// Package localstripe plays Stripe's part without a Stripe account: the
// test checkout page and the signed events `carnet stripe send` posts,
// received through the same intake as Stripe's own.
package localstripe
