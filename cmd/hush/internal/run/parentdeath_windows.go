package run

// Windows has no parent-death signal. Instead hush puts the child in a job
// object that kills every process in it when its last handle closes:
// hush holds the only handle, so when hush ends, killed or not, the
// child ends too.
//
// Cannot: a process the child starts in the instant between its start and
// its assignment to the job escapes it (os/exec has no suspended start).

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// bindToHush puts p in a kill-on-close job. The job's handle is never
// closed: it lives as long as hush does.
func bindToHush(p *os.Process) error {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return fmt.Errorf("failed to create a job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return fmt.Errorf("failed to set up the job object: %w", err)
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(p.Pid))
	if err != nil {
		windows.CloseHandle(job)
		return fmt.Errorf("failed to open the child process: %w", err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		windows.CloseHandle(job)
		return fmt.Errorf("failed to put the child in a job object: %w", err)
	}
	return nil
}
