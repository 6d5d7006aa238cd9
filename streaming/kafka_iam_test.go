package streaming_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lambdastack/lambdastack/streaming"
)

// rotating hands out new credentials on every Retrieve, as a caching
// provider does when the old ones expire.
type rotating struct{ n int }

func (r *rotating) Retrieve(context.Context) (aws.Credentials, error) {
	r.n++
	return r.current(), nil
}

// current is what the last Retrieve returned.
func (r *rotating) current() aws.Credentials {
	id := "AKIDEXAMPLE" + string(rune('0'+r.n))
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: "secret-" + id, SessionToken: "token/" + id + "+x=="}
}

// TestMSKIAMSigning checks the AWS_MSK_IAM first message (kfake does not
// speak the mechanism): its fields, and its signature recomputed with the
// AWS SDK's SigV4 presigner over the same request; and that every session
// retrieves credentials again.
func TestMSKIAMSigning(t *testing.T) {
	const host = "b-1.events.abc123.c2.kafka.us-west-2.amazonaws.com"
	creds := &rotating{}
	m := streaming.MSKIAM(creds)
	if m.Name() != "AWS_MSK_IAM" {
		t.Fatalf("mechanism %q", m.Name())
	}
	for want := 1; want <= 2; want++ {
		_, first, err := m.Authenticate(context.Background(), host+":9098")
		if err != nil {
			t.Fatal(err)
		}
		var msg map[string]string
		if err := json.Unmarshal(first, &msg); err != nil {
			t.Fatalf("first message %s: %v", first, err)
		}
		c := creds.current()
		if creds.n != want {
			t.Fatalf("session %d retrieved credentials %d times", want, creds.n)
		}
		if !strings.HasPrefix(msg["x-amz-credential"], c.AccessKeyID+"/") {
			t.Fatalf("session %d signed with %s, want the provider's current key %s", want, msg["x-amz-credential"], c.AccessKeyID)
		}
		for k, v := range map[string]string{"version": "2020_10_22", "host": host, "action": "kafka-cluster:Connect",
			"x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-signedheaders": "host", "x-amz-expires": "900",
			"x-amz-security-token": c.SessionToken} {
			if msg[k] != v {
				t.Errorf("%s = %q, want %q", k, msg[k], v)
			}
		}
		at, err := time.Parse("20060102T150405Z", msg["x-amz-date"])
		if err != nil {
			t.Fatalf("x-amz-date %q: %v", msg["x-amz-date"], err)
		}
		if scope := at.Format("20060102") + "/us-west-2/kafka-cluster/aws4_request"; msg["x-amz-credential"] != c.AccessKeyID+"/"+scope {
			t.Errorf("credential %q, want scope %s", msg["x-amz-credential"], scope)
		}

		req, _ := http.NewRequest(http.MethodGet, "https://"+host+"/?"+url.Values{"Action": {"kafka-cluster:Connect"}, "X-Amz-Expires": {"900"}}.Encode(), nil)
		const emptyBody = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), c, req, emptyBody, "kafka-cluster", "us-west-2", at)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(signed)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := msg["x-amz-signature"], u.Query().Get("X-Amz-Signature"); got == "" || got != want {
			t.Fatalf("signature %q, the SDK's SigV4 presigner gives %q", got, want)
		}
	}
}
