/** One line of `doctor`: what was checked, how it stands, and what to do when it is not ok. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do about it; always there for warn and fail. */
  readonly fix?: string;
}

export const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail });
export const warn = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'warn', detail, fix });
export const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'fail', detail, fix });

/** Where doctor looks on the host; every one overridable for tests (the hooks directory by flag too). */
export interface DoctorPaths {
  readonly hooksDir: string;
  readonly procDir: string;
  /** Exists when systemd runs (sd_booted). */
  readonly systemdRunDir: string;
  readonly cronFile: string;
}

export const HOST_PATHS: DoctorPaths = {
  hooksDir: '/etc/libvirt/hooks',
  procDir: '/proc',
  systemdRunDir: '/run/systemd/system',
  cronFile: '/etc/cron.d/nova-ipmeta',
};
