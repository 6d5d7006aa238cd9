package main

import (
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    config
		wantErr string
	}{
		{"nothing set", map[string]string{}, config{}, "VIEWS_LOCATION is not set"},
		{"no stage", map[string]string{"VIEWS_LOCATION": "s3://views/"}, config{}, "STAGE is not set"},
		{"complete", map[string]string{"VIEWS_LOCATION": "s3://views/", "STAGE": "prod"}, config{ViewsLocation: "s3://views/", Stage: "prod"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || c != tc.want {
				t.Fatalf("got %+v, %v; want %+v", c, err, tc.want)
			}
		})
	}
}
