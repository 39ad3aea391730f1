package vault

import (
	"strings"
	"testing"
)

func TestDescribeRefusesAValueNotOfItsType(t *testing.T) {
	if _, _, err := Describe(TypeCertificate, []byte("not a certificate")); err == nil {
		t.Fatal("a certificate that is not one was taken")
	}
	summary, end, err := Describe(TypePassword, []byte("hunter2-hunter2"))
	if err != nil || !end.IsZero() || strings.Contains(summary, "hunter2") {
		t.Fatalf("a password: %q, %v, %v", summary, end, err)
	}
}
