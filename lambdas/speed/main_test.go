package main

import "testing"

func TestLoadConfig(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if _, err := loadConfig(get); err == nil {
		t.Fatal("no VIEWS_LOCATION: want an error")
	}
	env["VIEWS_LOCATION"] = "s3://views/"
	c, err := loadConfig(get)
	if err != nil || c.ViewsLocation != "s3://views/" {
		t.Fatalf("got %+v, %v", c, err)
	}
}
