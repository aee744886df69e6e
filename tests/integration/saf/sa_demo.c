/* An SA-aware component written the way OpenSAF users write them, against the SA Forum AMF
 * C API (saAmf.h, B.01.01) and nothing of amf's: it daemonizes and leaves its PID in a file
 * (the CLC-CLI way), initializes, registers, starts its health check, polls the selection
 * object with no timeout and dispatches one callback per wake-up; it tracks the protection
 * group of the CSI that SA_DEMO_TRACK names, if any. Every callback it gets is written, one
 * line each, to the file SA_DEMO_LOG names, for the test to read.
 *
 * usage: sa-demo-component PID_FILE */
#include <errno.h>
#include <poll.h>
#include <saAmf.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static SaAmfHandleT amf;
static SaNameT self;
static FILE* out;

static const char* ha_name(SaAmfHAStateT ha) {
  switch (ha) {
    case SA_AMF_HA_ACTIVE:
      return "active";
    case SA_AMF_HA_STANDBY:
      return "standby";
    case SA_AMF_HA_QUIESCED:
      return "quiesced";
    case SA_AMF_HA_QUIESCING:
      return "quiescing";
  }
  return "?";
}

static const char* flags_name(SaAmfCSIFlagsT flags) {
  if (flags == SA_AMF_CSI_ADD_ONE) return "add-one";
  if (flags == SA_AMF_CSI_TARGET_ONE) return "target-one";
  if (flags == SA_AMF_CSI_TARGET_ALL) return "target-all";
  return "?";
}

static const char* transition_name(SaAmfCSITransitionDescriptorT t) {
  switch (t) {
    case SA_AMF_CSI_NEW_ASSIGN:
      return "new-assign";
    case SA_AMF_CSI_QUIESCED:
      return "quiesced";
    case SA_AMF_CSI_NOT_QUIESCED:
      return "not-quiesced";
    case SA_AMF_CSI_STILL_ACTIVE:
      return "still-active";
  }
  return "?";
}

static void say(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vfprintf(out, format, args);
  va_end(args);
  fputc('\n', out);
  fflush(out);
}

static void check(SaAisErrorT rc, const char* call) {
  if (rc == SA_AIS_OK) return;
  say("%s failed: %d", call, (int)rc);
  exit(1);
}

static void csi_set(SaInvocationT invocation, const SaNameT* comp, SaAmfHAStateT ha,
                    SaAmfCSIDescriptorT csi) {
  say("csi-set %s %.*s %s", flags_name(csi.csiFlags), csi.csiName.length, csi.csiName.value,
      ha_name(ha));
  if (ha == SA_AMF_HA_ACTIVE) {
    say("  transition %s",
        transition_name(csi.csiStateDescriptor.activeDescriptor.transitionDescriptor));
  } else if (ha == SA_AMF_HA_STANDBY) {
    const SaNameT* active = &csi.csiStateDescriptor.standbyDescriptor.activeCompName;
    say("  active %.*s", active->length, active->value);
  }
  for (SaUint32T i = 0; i < csi.csiAttr.number; i++) {
    say("  attr %s=%s", (const char*)csi.csiAttr.attr[i].attrName,
        (const char*)csi.csiAttr.attr[i].attrValue);
  }
  check(saAmfResponse(amf, invocation, SA_AIS_OK), "saAmfResponse");
  if (ha == SA_AMF_HA_QUIESCING) {
    /* The work in hand is done at once here; a real service would finish it first. */
    check(saAmfCSIQuiescingComplete(amf, invocation, SA_AIS_OK), "saAmfCSIQuiescingComplete");
    SaAmfHAStateT now;
    check(saAmfHAStateGet(amf, comp, &csi.csiName, &now), "saAmfHAStateGet");
    say("quiescing-complete, now %s", ha_name(now));
  }
}

static void csi_remove(SaInvocationT invocation, const SaNameT* comp, const SaNameT* csi,
                       SaAmfCSIFlagsT flags) {
  (void)comp;
  say("csi-remove %s %.*s", flags_name(flags), csi->length, csi->value);
  check(saAmfResponse(amf, invocation, SA_AIS_OK), "saAmfResponse");
}

static void healthcheck(SaInvocationT invocation, const SaNameT* comp, SaAmfHealthcheckKeyT* key) {
  (void)comp;
  static int checks;
  if (checks++ == 0) say("healthcheck %.*s", key->keyLen, (const char*)key->key);
  check(saAmfResponse(amf, invocation, SA_AIS_OK), "saAmfResponse");
}

static void terminate(SaInvocationT invocation, const SaNameT* comp) {
  say("terminate %.*s", comp->length, comp->value);
  check(saAmfResponse(amf, invocation, SA_AIS_OK), "saAmfResponse");
  exit(0);
}

static const char* change_name(SaAmfProtectionGroupChangesT change) {
  switch (change) {
    case SA_AMF_PROTECTION_GROUP_NO_CHANGE:
      return "no-change";
    case SA_AMF_PROTECTION_GROUP_ADDED:
      return "added";
    case SA_AMF_PROTECTION_GROUP_REMOVED:
      return "removed";
    case SA_AMF_PROTECTION_GROUP_STATE_CHANGE:
      return "state-change";
  }
  return "?";
}

static void group(const SaNameT* csi, SaAmfProtectionGroupNotificationBufferT* buffer,
                  SaUint32T members, SaAisErrorT error) {
  say("pg %.*s %u members (error %d)", csi->length, csi->value, members, (int)error);
  for (SaUint32T i = 0; i < buffer->numberOfItems; i++) {
    const SaAmfProtectionGroupNotificationT* n = &buffer->notification[i];
    say("  %.*s %s %s", n->member.compName.length, n->member.compName.value,
        ha_name(n->member.haState), change_name(n->change));
  }
}

static void daemonize(const char* pid_file) {
  const pid_t child = fork();
  if (child < 0) exit(1);
  if (child > 0) {
    FILE* f = fopen(pid_file, "w");
    if (f == NULL) exit(1);
    fprintf(f, "%d\n", (int)child);
    exit(fclose(f) == 0 ? 0 : 1);
  }
  setsid();
}

int main(int argc, char** argv) {
  const char* name = getenv("SA_AMF_COMPONENT_NAME");
  const char* log = getenv("SA_DEMO_LOG");
  if (argc != 2 || name == NULL || log == NULL) {
    fprintf(stderr, "usage: SA_DEMO_LOG=FILE sa-demo-component PID_FILE (started by AMF)\n");
    return 1;
  }
  daemonize(argv[1]);
  out = fopen(log, "a");
  if (out == NULL) return 1;

  SaAmfCallbacksT callbacks = {0};
  callbacks.saAmfCSISetCallback = csi_set;
  callbacks.saAmfCSIRemoveCallback = csi_remove;
  callbacks.saAmfHealthcheckCallback = healthcheck;
  callbacks.saAmfComponentTerminateCallback = terminate;
  callbacks.saAmfProtectionGroupTrackCallback = group;
  SaVersionT version = {'B', 0x01, 0x01};
  check(saAmfInitialize(&amf, &callbacks, &version), "saAmfInitialize");
  SaSelectionObjectT selection;
  check(saAmfSelectionObjectGet(amf, &selection), "saAmfSelectionObjectGet");
  check(saAmfComponentNameGet(amf, &self), "saAmfComponentNameGet");
  check(saAmfComponentRegister(amf, &self, NULL), "saAmfComponentRegister");
  SaAmfHealthcheckKeyT key = {"AmfDemo", 7};
  check(saAmfHealthcheckStart(amf, &self, &key, SA_AMF_HEALTHCHECK_AMF_INVOKED,
                              SA_AMF_COMPONENT_RESTART),
        "saAmfHealthcheckStart");
  say("registered %.*s pid %d", self.length, self.value, (int)getpid());
  /* Who else holds the CSI, now (through the callback) and whenever that changes. */
  const char* track = getenv("SA_DEMO_TRACK");
  if (track != NULL) {
    SaNameT csi;
    csi.length = (SaUint16T)strlen(track);
    memcpy(csi.value, track, csi.length);
    check(saAmfProtectionGroupTrack(amf, &csi, SA_TRACK_CURRENT | SA_TRACK_CHANGES_ONLY, NULL),
          "saAmfProtectionGroupTrack");
  }

  struct pollfd fds[1] = {{.fd = (int)selection, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 1, -1) < 0) {
      if (errno == EINTR) continue;
      say("poll failed: %s", strerror(errno));
      return 1;
    }
    if (fds[0].revents & POLLIN) check(saAmfDispatch(amf, SA_DISPATCH_ONE), "saAmfDispatch");
  }
}
