package awscfg

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// CheckTimeout bounds CheckCredentials: a lookup that cannot succeed (no
// credentials anywhere, an unreachable instance-metadata service) is
// reported in this time instead of after the SDK's retries.
const CheckTimeout = 2 * time.Second

// ErrNoCredentials is returned (wrapped) by CheckCredentials when no source
// in the standard chain yields credentials.
var ErrNoCredentials = errors.New("no AWS credentials found (environment, ~/.aws/credentials and config, SSO, container or instance metadata): " +
	"set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure` or `aws sso login`, " +
	"or point AWS_ENDPOINT_URL at an emulator")

// CheckCredentials resolves the configuration's credentials once, within
// CheckTimeout, so a command fails up front, in one line, rather than on
// its first request after retrying an error that cannot go away.
func (c Config) CheckCredentials(ctx context.Context) error {
	if c.AWS.Credentials == nil {
		return ErrNoCredentials
	}
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	creds, err := c.AWS.Credentials.Retrieve(ctx)
	if err != nil || !creds.HasKeys() {
		if SDKLog != nil && err != nil {
			fmt.Fprintf(SDKLog, "credential lookup: %v\n", err)
		}
		return ErrNoCredentials
	}
	return nil
}
