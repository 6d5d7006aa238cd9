package firehose_test

import (
	"fmt"
	"strings"

	"github.com/lambdastack/lambdastack/internal/event"
)

// badRecord returns a record rejected for reason r.
func badRecord(i int, r event.Reason) string {
	switch r {
	case event.ReasonInvalidJSON:
		return fmt.Sprintf(`{"event_id":"bad-%d",`, i)
	case event.ReasonNotUTF8:
		return fmt.Sprintf("{\"event_id\":\"bad-%d\xff\"}", i)
	case event.ReasonTooLarge:
		return fmt.Sprintf(`{"event_id":"bad-%d","pad":"%s"}`, i, strings.Repeat("x", event.MaxRecordBytes))
	case event.ReasonMissingField:
		return fmt.Sprintf(`{"event_id":"bad-%d","event_type":"a","event_time":"2026-01-01T00:00:00Z"}`, i)
	case event.ReasonBadType:
		return fmt.Sprintf(`{"event_id":"bad-%d","event_type":"a","event_time":"2026-01-01T00:00:00Z","user_id":%d}`, i, i)
	case event.ReasonBadValue:
		return fmt.Sprintf(`{"event_id":"bad-%d","event_type":"Not Valid","event_time":"2026-01-01T00:00:00Z","user_id":"u"}`, i)
	case event.ReasonFutureTime:
		return fmt.Sprintf(`{"event_id":"bad-%d","event_type":"a","event_time":"2999-01-01T00:00:00Z","user_id":"u"}`, i)
	}
	return ""
}

// testEvents returns n records of which every 50th (2%) is bad, cycling
// through every reason code, and the number expected per route.
func testEvents(n int) (recs []string, userIDs []string, want map[string]int64) {
	want = map[string]int64{}
	reasons := event.Reasons()
	for i := range n {
		user := fmt.Sprintf("user-%d", i%500)
		if i%50 == 49 {
			r := reasons[(i/50)%len(reasons)]
			recs = append(recs, badRecord(i, r))
			want["errors/"+string(r)]++
		} else {
			recs = append(recs, fmt.Sprintf(`{"event_id":"evt-%07d","event_type":"page_view","event_time":"2026-01-01T%02d:%02d:00Z","user_id":"%s","source":"web","value":%d}`,
				i, (i/60)%24, i%60, user, i%100))
			want["events"]++
		}
		userIDs = append(userIDs, user)
	}
	return recs, userIDs, want
}
