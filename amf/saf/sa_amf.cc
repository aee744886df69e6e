// libSaAmf: the SA Forum AMF C API (B.01.01, the component's side) over amf's component
// library, so that an SA-aware component written against OpenSAF's headers builds unchanged
// and runs under amfd. amf/saf/README.md says what each call does here.
//
// Two things the C API needs that amf::component::Handle does not give as such:
//  - A level-triggered selection object. OpenSAF's components poll it with no timeout and
//    dispatch one callback per wake-up; a ZeroMQ socket's descriptor may stay quiet while
//    messages wait. The selection object is an epoll descriptor watching the socket's
//    descriptor and an eventfd that is kept readable exactly while a message waits.
//  - Quiescing in two steps. An SA component answers a quiescing CSI set at once
//    (saAmfResponse) and says later that it is done (saAmfCSIQuiescingComplete); amf's
//    protocol has one answer, sent when the work is done. The first is held until the second.
#include <saAmf.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "amf/component/component.h"

namespace {

using amf::component::CsiDescriptor;
using amf::component::Handle;
using amf::component::Invocation;
using amf::model::HaState;

std::string text(const SaNameT* name) {
  if (name == nullptr) return {};
  const std::size_t length = std::min<std::size_t>(name->length, SA_MAX_NAME_LENGTH);
  return {reinterpret_cast<const char*>(name->value), length};
}

void set_name(SaNameT* name, const std::string& value) {
  const std::size_t length = std::min<std::size_t>(value.size(), SA_MAX_NAME_LENGTH);
  std::memset(name, 0, sizeof *name);
  std::memcpy(name->value, value.data(), length);
  name->length = static_cast<SaUint16T>(length);
}

// An SA enum argument's value as the caller passed it: C callers may pass any int, and reading
// one outside the enumeration's range as the enum type is undefined in C++.
template <typename Enum>
int value_of(const Enum& e) {
  static_assert(sizeof(Enum) == sizeof(int));
  int value = 0;
  std::memcpy(&value, &e, sizeof value);
  return value;
}

std::string key_text(const SaAmfHealthcheckKeyT* key) {
  const std::size_t length = std::min<std::size_t>(key->keyLen, SA_AMF_HEALTHCHECK_KEY_MAX);
  return {reinterpret_cast<const char*>(key->key), length};
}

SaAmfHAStateT to_sa(HaState ha) {
  switch (ha) {
    case HaState::kActive:
      return SA_AMF_HA_ACTIVE;
    case HaState::kStandby:
      return SA_AMF_HA_STANDBY;
    case HaState::kQuiescing:
      return SA_AMF_HA_QUIESCING;
    case HaState::kQuiesced:
      return SA_AMF_HA_QUIESCED;
  }
  return SA_AMF_HA_QUIESCED;
}

SaAmfCSITransitionDescriptorT to_sa(amf::model::TransitionReason reason) {
  switch (reason) {
    case amf::model::TransitionReason::kFailover:
      return SA_AMF_CSI_NOT_QUIESCED;  // the previous active died without handing over
    case amf::model::TransitionReason::kSwitchover:
      return SA_AMF_CSI_QUIESCED;  // it was quiesced first
    case amf::model::TransitionReason::kNewAssignment:
    case amf::model::TransitionReason::kRestart:
      break;
  }
  return SA_AMF_CSI_NEW_ASSIGN;
}

SaAmfProtectionGroupChangesT to_sa(amf::model::ProtectionGroupChange change) {
  switch (change) {
    case amf::model::ProtectionGroupChange::kAdded:
      return SA_AMF_PROTECTION_GROUP_ADDED;
    case amf::model::ProtectionGroupChange::kRemoved:
      return SA_AMF_PROTECTION_GROUP_REMOVED;
    case amf::model::ProtectionGroupChange::kStateChange:
      return SA_AMF_PROTECTION_GROUP_STATE_CHANGE;
    case amf::model::ProtectionGroupChange::kNoChange:
      break;
  }
  return SA_AMF_PROTECTION_GROUP_NO_CHANGE;
}

SaAmfProtectionGroupNotificationT to_sa(const amf::model::ProtectionGroupMember& member) {
  SaAmfProtectionGroupNotificationT out{};
  set_name(&out.member.compName, member.component_dn);
  out.member.haState = to_sa(member.ha);
  out.member.rank = static_cast<SaUint32T>(member.rank);
  out.change = to_sa(member.change);
  return out;
}

SaAisErrorT to_sa(amf::model::ProtectionGroupRefusal refusal) {
  switch (refusal) {
    case amf::model::ProtectionGroupRefusal::kNone:
      return SA_AIS_OK;
    case amf::model::ProtectionGroupRefusal::kBadRequest:
      return SA_AIS_ERR_BAD_FLAGS;
    case amf::model::ProtectionGroupRefusal::kNoSuchCsi:
    case amf::model::ProtectionGroupRefusal::kNotTracked:
      return SA_AIS_ERR_NOT_EXIST;
    case amf::model::ProtectionGroupRefusal::kNotSupported:
      return SA_AIS_ERR_NOT_SUPPORTED;
    case amf::model::ProtectionGroupRefusal::kNotRegistered:
      return SA_AIS_ERR_BAD_OPERATION;
  }
  return SA_AIS_ERR_LIBRARY;
}

// A recommended recovery as passed, if it is one.
std::optional<SaAmfRecommendedRecoveryT> recovery_of(int value) {
  if (value < SA_AMF_NO_RECOMMENDATION || value > SA_AMF_CONTAINER_RESTART) return std::nullopt;
  return static_cast<SaAmfRecommendedRecoveryT>(value);
}

// amf's recovery names (the configuration's) for the SA Forum recommendations; the two amf
// lacks are passed on by name, and amfd then applies the component's configured recovery and
// says so in its events.
std::string recovery_name(SaAmfRecommendedRecoveryT recovery) {
  switch (recovery) {
    case SA_AMF_COMPONENT_RESTART:
      return "component-restart";
    case SA_AMF_COMPONENT_FAILOVER:
      return "component-failover";
    case SA_AMF_NODE_SWITCHOVER:
      return "node-switchover";
    case SA_AMF_NODE_FAILOVER:
      return "node-failover";
    case SA_AMF_NODE_FAILFAST:
      return "node-failfast";
    case SA_AMF_CLUSTER_RESET:
      return "cluster-reset";
    case SA_AMF_APPLICATION_RESTART:
      return "application-restart";
    case SA_AMF_CONTAINER_RESTART:
      return "container-restart";
    case SA_AMF_NO_RECOMMENDATION:
      break;
  }
  return "";
}

// One saAmfInitialize: a connection to the node director and what the component was told.
struct Session {
  SaAmfCallbacksT callbacks{};
  std::optional<Handle> handle;
  std::string dn;   // SA_AMF_COMPONENT_NAME
  std::string app;  // the application of the DN (safApp=...), which CSI DNs end with
  int epoll_fd = -1;
  int event_fd = -1;
  bool registered = false;

  // An invocation handed to the component and not yet answered.
  struct Call {
    enum class Kind { kCsiSet, kCsiRemove, kHealthcheck, kTerminate } kind;
    std::string csi;  // DN
    SaAmfHAStateT ha = SA_AMF_HA_ACTIVE;
  };
  std::map<SaInvocationT, Call> calls;
  std::map<SaInvocationT, std::string> quiescing;  // answered ok, not yet complete: CSI DN
  std::set<std::string> given;                     // CSIs set and not removed (for csiFlags)
  std::map<std::string, SaAmfHAStateT> ha;         // each CSI's state as answered
  // A health check the component started: its key and how it is invoked.
  std::optional<std::pair<std::string, SaAmfHealthcheckInvocationT>> healthcheck;
  SaAmfRecommendedRecoveryT healthcheck_recovery = SA_AMF_NO_RECOMMENDATION;

  ~Session() {
    if (epoll_fd >= 0) close(epoll_fd);
    if (event_fd >= 0) close(event_fd);
  }

  // "SG/SI/CSI" to "safCsi=CSI,safSi=SI,safApp=APP" (the SI is in the component's application).
  std::string csi_dn(const std::string& id) const {
    const auto first = id.find('/');
    const auto second = id.find('/', first == std::string::npos ? 0 : first + 1);
    if (first == std::string::npos || second == std::string::npos) return id;
    return "safCsi=" + id.substr(second + 1) +
           ",safSi=" + id.substr(first + 1, second - first - 1) + ",safApp=" + app;
  }

  // Keeps the eventfd readable exactly while a message waits (the level the C API promises).
  void rearm() {
    std::uint64_t value = 0;
    (void)read(event_fd, &value, sizeof value);  // nonblocking: EAGAIN when already clear
    if (handle && handle->pending()) {
      value = 1;
      (void)write(event_fd, &value, sizeof value);
    }
  }

  void csi_set(Invocation invocation, const CsiDescriptor& d) {
    const std::string csi = csi_dn(d.csi);
    const SaAmfHAStateT ha = to_sa(d.ha);
    calls[invocation] = {Call::Kind::kCsiSet, csi, ha};
    SaAmfCSIDescriptorT descriptor{};
    descriptor.csiFlags = given.insert(csi).second ? SA_AMF_CSI_ADD_ONE : SA_AMF_CSI_TARGET_ONE;
    set_name(&descriptor.csiName, csi);
    if (ha == SA_AMF_HA_ACTIVE) {
      descriptor.csiStateDescriptor.activeDescriptor.transitionDescriptor = to_sa(d.reason);
    } else if (ha == SA_AMF_HA_STANDBY) {
      if (d.active) {
        set_name(&descriptor.csiStateDescriptor.standbyDescriptor.activeCompName,
                 d.active->component_dn);
      }
      descriptor.csiStateDescriptor.standbyDescriptor.standbyRank = 1;
    }
    // Names and values as NUL-terminated strings that live through the callback.
    std::vector<std::string> strings;
    strings.reserve(2 * d.attributes.size());
    std::vector<SaAmfCSIAttributeT> attributes;
    for (const auto& [name, value] : d.attributes) {
      strings.push_back(name);
      strings.push_back(value);
    }
    for (std::size_t i = 0; i < strings.size(); i += 2) {
      attributes.push_back({reinterpret_cast<SaUint8T*>(strings[i].data()),
                            reinterpret_cast<SaUint8T*>(strings[i + 1].data())});
    }
    descriptor.csiAttr.attr = attributes.empty() ? nullptr : attributes.data();
    descriptor.csiAttr.number = static_cast<SaUint32T>(attributes.size());
    SaNameT comp;
    set_name(&comp, dn);
    if (callbacks.saAmfCSISetCallback == nullptr) return answer_for_component(invocation, false);
    callbacks.saAmfCSISetCallback(invocation, &comp, ha, descriptor);
  }

  void csi_remove(Invocation invocation, const std::string& id) {
    const std::string csi = csi_dn(id);
    calls[invocation] = {Call::Kind::kCsiRemove, csi};
    SaNameT comp, name;
    set_name(&comp, dn);
    set_name(&name, csi);
    if (callbacks.saAmfCSIRemoveCallback == nullptr) return answer_for_component(invocation, true);
    callbacks.saAmfCSIRemoveCallback(invocation, &comp, &name, SA_AMF_CSI_TARGET_ONE);
  }

  // amfd runs the health check its configuration names from the component's registration on;
  // until the component starts it (or when it has no callback), the library answers for it,
  // which proves its dispatch loop alive.
  void check(Invocation invocation, const std::string& key) {
    calls[invocation] = {Call::Kind::kHealthcheck, ""};
    if (!healthcheck || healthcheck->second != SA_AMF_HEALTHCHECK_AMF_INVOKED ||
        callbacks.saAmfHealthcheckCallback == nullptr) {
      return answer_for_component(invocation, true);
    }
    SaAmfHealthcheckKeyT sa_key{};
    const std::size_t length = std::min<std::size_t>(key.size(), SA_AMF_HEALTHCHECK_KEY_MAX);
    std::memcpy(sa_key.key, key.data(), length);
    sa_key.keyLen = static_cast<SaUint16T>(length);
    SaNameT comp;
    set_name(&comp, dn);
    callbacks.saAmfHealthcheckCallback(invocation, &comp, &sa_key);
  }

  void terminate(Invocation invocation) {
    calls[invocation] = {Call::Kind::kTerminate, ""};
    if (callbacks.saAmfComponentTerminateCallback == nullptr) {
      answer_for_component(invocation, true);
      std::raise(SIGTERM);
      return;
    }
    SaNameT comp;
    set_name(&comp, dn);
    callbacks.saAmfComponentTerminateCallback(invocation, &comp);
  }

  // A tracked group, to the component's track callback, in a buffer that lives through it.
  void group_changed(const amf::component::ProtectionGroupUpdate& update) {
    if (callbacks.saAmfProtectionGroupTrackCallback == nullptr) return;
    std::vector<SaAmfProtectionGroupNotificationT> items;
    for (const auto& member : update.members) items.push_back(to_sa(member));
    SaAmfProtectionGroupNotificationBufferT buffer{static_cast<SaUint32T>(items.size()),
                                                   items.empty() ? nullptr : items.data()};
    SaNameT name;
    set_name(&name, update.csi);
    callbacks.saAmfProtectionGroupTrackCallback(&name, &buffer, static_cast<SaUint32T>(update.size),
                                                SA_AIS_OK);
  }

  void answer_for_component(Invocation invocation, bool ok) {
    if (auto call = calls.find(invocation);
        ok && call != calls.end() && call->second.kind == Call::Kind::kCsiRemove) {
      ha.erase(call->second.csi);
      given.erase(call->second.csi);
    }
    calls.erase(invocation);
    (void)handle->response(invocation, ok, ok ? "" : "the component has no callback for it");
  }

  SaAisErrorT respond(SaInvocationT invocation, int error) {
    auto call = calls.find(invocation);
    if (call == calls.end()) return SA_AIS_ERR_INVALID_PARAM;
    const Call c = call->second;
    calls.erase(call);
    const bool ok = error == SA_AIS_OK;
    if (ok && c.kind == Call::Kind::kCsiSet && c.ha == SA_AMF_HA_QUIESCING) {
      ha[c.csi] = SA_AMF_HA_QUIESCING;
      quiescing[invocation] = c.csi;  // answered when the component says it is done
      return SA_AIS_OK;
    }
    if (ok && c.kind == Call::Kind::kCsiSet) ha[c.csi] = c.ha;
    if (ok && c.kind == Call::Kind::kCsiRemove) {
      ha.erase(c.csi);
      given.erase(c.csi);
    }
    auto sent = handle->response(invocation, ok,
                                 ok ? "" : "answered with SA error " + std::to_string(error));
    return sent ? SA_AIS_OK : SA_AIS_ERR_LIBRARY;
  }

  SaAisErrorT quiescing_complete(SaInvocationT invocation, int error) {
    auto held = quiescing.find(invocation);
    if (held == quiescing.end()) {
      // Done before it answered the callback: the completion answers both.
      auto call = calls.find(invocation);
      if (call == calls.end() || call->second.kind != Call::Kind::kCsiSet ||
          call->second.ha != SA_AMF_HA_QUIESCING) {
        return SA_AIS_ERR_INVALID_PARAM;
      }
      held = quiescing.emplace(invocation, call->second.csi).first;
      calls.erase(call);
    }
    const std::string csi = held->second;
    quiescing.erase(held);
    const bool ok = error == SA_AIS_OK;
    if (ok) ha[csi] = SA_AMF_HA_QUIESCED;
    auto sent = handle->response(
        invocation, ok, ok ? "" : "quiescing failed with SA error " + std::to_string(error));
    return sent ? SA_AIS_OK : SA_AIS_ERR_LIBRARY;
  }

  bool mine(const SaNameT* name) const { return name != nullptr && text(name) == dn; }
};

// Never destroyed: a component may exit() inside a callback (OpenSAF's samples do, from the
// terminate callback), while the lock is held and a session dispatches.
std::recursive_mutex& mutex = *new std::recursive_mutex;  // any thread, callbacks included
std::map<SaAmfHandleT, std::shared_ptr<Session>>& sessions =
    *new std::map<SaAmfHandleT, std::shared_ptr<Session>>;
SaAmfHandleT next_handle = 1;

Session* find(SaAmfHandleT handle) {
  auto it = sessions.find(handle);
  return it == sessions.end() ? nullptr : it->second.get();
}

// Every waiting callback, one by one, until none waits or one of them finalizes the handle
// (after which none may run). Under the lock.
SaAisErrorT dispatch_all(SaAmfHandleT handle, Session& s) {
  while (find(handle) == &s) {
    const auto ran = s.handle->dispatch_one();
    if (!ran) return SA_AIS_ERR_LIBRARY;
    if (!*ran) break;
  }
  s.rearm();
  return SA_AIS_OK;
}

// A call on a handle: under the lock, SA_AIS_ERR_BAD_HANDLE for one not initialized (or
// finalized), else what `call` answers.
template <typename Call>
SaAisErrorT with_session(SaAmfHandleT handle, Call call) {
  std::lock_guard lock(mutex);
  Session* s = find(handle);
  return s == nullptr ? SA_AIS_ERR_BAD_HANDLE : call(*s);
}

}  // namespace

extern "C" {

SaAisErrorT saAmfInitialize(SaAmfHandleT* amfHandle, const SaAmfCallbacksT* amfCallbacks,
                            SaVersionT* version) {
  if (amfHandle == nullptr || version == nullptr) return SA_AIS_ERR_INVALID_PARAM;
  // B.01.01 is what this library implements; a B.01 caller asking for a lower minor gets it.
  if (version->releaseCode != 'B' || version->majorVersion > 0x01) {
    *version = {'B', 0x01, 0x01};
    return SA_AIS_ERR_VERSION;
  }
  *version = {'B', 0x01, 0x01};
  const char* dn = std::getenv("SA_AMF_COMPONENT_NAME");
  auto session = std::make_shared<Session>();
  if (amfCallbacks != nullptr) session->callbacks = *amfCallbacks;
  session->dn = dn != nullptr ? dn : "";
  if (const auto at = session->dn.rfind("safApp="); at != std::string::npos) {
    session->app = session->dn.substr(at + 7);
  }
  Session* s = session.get();
  auto handle = Handle::initialize({
      .csi_set = [s](Invocation inv, const CsiDescriptor& d) { s->csi_set(inv, d); },
      .csi_remove = [s](Invocation inv, const std::string& csi) { s->csi_remove(inv, csi); },
      .healthcheck = [s](Invocation inv, const std::string& key) { s->check(inv, key); },
      .terminate = [s](Invocation inv) { s->terminate(inv); },
      .protection_group =
          [s](const amf::component::ProtectionGroupUpdate& update) { s->group_changed(update); },
  });
  if (!handle) return SA_AIS_ERR_LIBRARY;  // not started by amfd: no AMF_COMPONENT_SOCKET
  session->handle.emplace(std::move(*handle));
  session->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  session->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (session->epoll_fd < 0 || session->event_fd < 0) return SA_AIS_ERR_NO_RESOURCES;
  for (int fd : {session->handle->selection_fd(), session->event_fd}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(session->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
      return SA_AIS_ERR_NO_RESOURCES;
    }
  }
  std::lock_guard lock(mutex);
  *amfHandle = next_handle++;
  sessions[*amfHandle] = std::move(session);
  return SA_AIS_OK;
}

SaAisErrorT saAmfSelectionObjectGet(SaAmfHandleT amfHandle, SaSelectionObjectT* selectionObject) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    if (selectionObject == nullptr) return SA_AIS_ERR_INVALID_PARAM;
    s.rearm();
    *selectionObject = static_cast<SaSelectionObjectT>(s.epoll_fd);
    return SA_AIS_OK;
  });
}

SaAisErrorT saAmfDispatch(SaAmfHandleT amfHandle, SaDispatchFlagsT dispatchFlags) {
  std::unique_lock lock(mutex);
  auto it = sessions.find(amfHandle);
  if (it == sessions.end()) return SA_AIS_ERR_BAD_HANDLE;
  // Held through the callbacks: one of them may finalize the handle.
  const std::shared_ptr<Session> s = it->second;
  switch (value_of(dispatchFlags)) {
    case SA_DISPATCH_ONE: {
      const auto ran = s->handle->dispatch_one();
      s->rearm();
      return ran ? SA_AIS_OK : SA_AIS_ERR_LIBRARY;
    }
    case SA_DISPATCH_ALL:
      return dispatch_all(amfHandle, *s);
    case SA_DISPATCH_BLOCKING:
      // Until saAmfFinalize (from a callback or another thread).
      while (find(amfHandle) == s.get()) {
        s->rearm();
        lock.unlock();
        epoll_event event{};
        const int ready = epoll_wait(s->epoll_fd, &event, 1, 100);
        lock.lock();
        if (ready > 0 && dispatch_all(amfHandle, *s) != SA_AIS_OK) return SA_AIS_ERR_LIBRARY;
      }
      return SA_AIS_OK;
  }
  return SA_AIS_ERR_INVALID_PARAM;
}

SaAisErrorT saAmfFinalize(SaAmfHandleT amfHandle) {
  std::lock_guard lock(mutex);
  return sessions.erase(amfHandle) == 1 ? SA_AIS_OK : SA_AIS_ERR_BAD_HANDLE;
}

SaAisErrorT saAmfComponentRegister(SaAmfHandleT amfHandle, const SaNameT* compName,
                                   const SaNameT* proxyCompName) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    if (proxyCompName != nullptr) return SA_AIS_ERR_NOT_SUPPORTED;  // no proxies in amf
    if (!s.mine(compName)) return SA_AIS_ERR_INVALID_PARAM;
    if (s.registered) return SA_AIS_ERR_EXIST;
    if (!s.handle->register_component()) return SA_AIS_ERR_TRY_AGAIN;
    s.registered = true;
    s.rearm();  // callbacks that came during registration wait in the library
    return SA_AIS_OK;
  });
}

SaAisErrorT saAmfComponentUnregister(SaAmfHandleT amfHandle, const SaNameT* compName,
                                     const SaNameT* proxyCompName) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    if (proxyCompName != nullptr) return SA_AIS_ERR_NOT_SUPPORTED;
    if (!s.mine(compName)) return SA_AIS_ERR_INVALID_PARAM;
    if (!s.registered) return SA_AIS_ERR_NOT_EXIST;
    // amf has no unregistration: amf serves a registered component until its process ends
    // (one that unregisters is about to exit).
    s.registered = false;
    return SA_AIS_OK;
  });
}

SaAisErrorT saAmfComponentNameGet(SaAmfHandleT amfHandle, SaNameT* compName) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    if (compName == nullptr) return SA_AIS_ERR_INVALID_PARAM;
    if (s.dn.empty()) return SA_AIS_ERR_NOT_EXIST;
    set_name(compName, s.dn);
    return SA_AIS_OK;
  });
}

SaAisErrorT saAmfPmStart(SaAmfHandleT amfHandle, const SaNameT*, SaUint64T, SaInt32T,
                         SaAmfPmErrorsT, SaAmfRecommendedRecoveryT) {
  // amfd watches every component's process itself (a pidfd), from its start.
  return with_session(amfHandle, [](Session&) { return SA_AIS_ERR_NOT_SUPPORTED; });
}

SaAisErrorT saAmfPmStop(SaAmfHandleT amfHandle, const SaNameT*, SaAmfPmStopQualifierT, SaInt64T,
                        SaAmfPmErrorsT) {
  return with_session(amfHandle, [](Session&) { return SA_AIS_ERR_NOT_SUPPORTED; });
}

SaAisErrorT saAmfHealthcheckStart(SaAmfHandleT amfHandle, const SaNameT* compName,
                                  const SaAmfHealthcheckKeyT* healthcheckKey,
                                  SaAmfHealthcheckInvocationT invocationType,
                                  SaAmfRecommendedRecoveryT recommendedRecovery) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    const int type = value_of(invocationType);
    const auto recovery = recovery_of(value_of(recommendedRecovery));
    if (!s.mine(compName) || healthcheckKey == nullptr ||
        healthcheckKey->keyLen > SA_AMF_HEALTHCHECK_KEY_MAX || !recovery ||
        (type != SA_AMF_HEALTHCHECK_AMF_INVOKED && type != SA_AMF_HEALTHCHECK_COMPONENT_INVOKED)) {
      return SA_AIS_ERR_INVALID_PARAM;
    }
    // The key must be the component's configured health check (amfd gives it in
    // AMF_HEALTHCHECK_KEY), invoked as configured (AMF_HEALTHCHECK_INVOKED_BY).
    const char* key = std::getenv("AMF_HEALTHCHECK_KEY");
    const char* by = std::getenv("AMF_HEALTHCHECK_INVOKED_BY");
    if (key == nullptr || key_text(healthcheckKey) != key) return SA_AIS_ERR_NOT_EXIST;
    const bool amf_invoked = by == nullptr || std::string(by) == "amf";
    if (amf_invoked != (type == SA_AMF_HEALTHCHECK_AMF_INVOKED)) return SA_AIS_ERR_INVALID_PARAM;
    if (s.healthcheck) return SA_AIS_ERR_EXIST;
    s.healthcheck.emplace(key, static_cast<SaAmfHealthcheckInvocationT>(type));
    s.healthcheck_recovery = *recovery;
    return SA_AIS_OK;
  });
}

SaAisErrorT saAmfHealthcheckConfirm(SaAmfHandleT amfHandle, const SaNameT* compName,
                                    const SaAmfHealthcheckKeyT* healthcheckKey,
                                    SaAisErrorT healthcheckResult) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    if (!s.mine(compName) || healthcheckKey == nullptr) return SA_AIS_ERR_INVALID_PARAM;
    if (!s.healthcheck || s.healthcheck->first != key_text(healthcheckKey) ||
        s.healthcheck->second != SA_AMF_HEALTHCHECK_COMPONENT_INVOKED) {
      return SA_AIS_ERR_NOT_EXIST;
    }
    const int result = value_of(healthcheckResult);
    const auto sent =
        result == SA_AIS_OK
            ? s.handle->healthcheck_confirm(s.healthcheck->first)
            : s.handle->error_report(recovery_name(s.healthcheck_recovery),
                                     "health check '" + s.healthcheck->first + "' confirmed " +
                                         "with SA error " + std::to_string(result));
    return sent ? SA_AIS_OK : SA_AIS_ERR_LIBRARY;
  });
}

SaAisErrorT saAmfHealthcheckStop(SaAmfHandleT amfHandle, const SaNameT* compName,
                                 const SaAmfHealthcheckKeyT* healthcheckKey) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    if (!s.mine(compName) || healthcheckKey == nullptr) return SA_AIS_ERR_INVALID_PARAM;
    if (!s.healthcheck || s.healthcheck->first != key_text(healthcheckKey)) {
      return SA_AIS_ERR_NOT_EXIST;
    }
    s.healthcheck.reset();  // AMF-invoked checks go on, answered by the library
    return SA_AIS_OK;
  });
}

SaAisErrorT saAmfHAStateGet(SaAmfHandleT amfHandle, const SaNameT* compName, const SaNameT* csiName,
                            SaAmfHAStateT* haState) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    if (!s.mine(compName) || csiName == nullptr || haState == nullptr) {
      return SA_AIS_ERR_INVALID_PARAM;
    }
    auto it = s.ha.find(text(csiName));
    if (it == s.ha.end()) return SA_AIS_ERR_NOT_EXIST;
    *haState = it->second;
    return SA_AIS_OK;
  });
}

SaAisErrorT saAmfCSIQuiescingComplete(SaAmfHandleT amfHandle, SaInvocationT invocation,
                                      SaAisErrorT error) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    return s.quiescing_complete(invocation, value_of(error));
  });
}

SaAisErrorT saAmfProtectionGroupTrack(SaAmfHandleT amfHandle, const SaNameT* csiName,
                                      SaUint8T trackFlags,
                                      SaAmfProtectionGroupNotificationBufferT* notificationBuffer) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    if (csiName == nullptr) return SA_AIS_ERR_INVALID_PARAM;
    // amfd answers registered components only (its component socket hears no other).
    if (!s.registered) return SA_AIS_ERR_BAD_OPERATION;
    const bool current = (trackFlags & SA_TRACK_CURRENT) != 0;
    const bool changes = (trackFlags & SA_TRACK_CHANGES) != 0;
    const bool changes_only = (trackFlags & SA_TRACK_CHANGES_ONLY) != 0;
    if ((trackFlags & ~(SA_TRACK_CURRENT | SA_TRACK_CHANGES | SA_TRACK_CHANGES_ONLY)) != 0 ||
        (changes && changes_only) || !(current || changes || changes_only)) {
      return SA_AIS_ERR_BAD_FLAGS;
    }
    // What comes through the callback needs one.
    const bool by_callback = current && notificationBuffer == nullptr;
    if ((changes || changes_only || by_callback) &&
        s.callbacks.saAmfProtectionGroupTrackCallback == nullptr) {
      return SA_AIS_ERR_INIT;
    }
    const std::string csi = text(csiName);
    auto answer = s.handle->track_protection_group(csi, {.current = current && !by_callback,
                                                         .current_callback = by_callback,
                                                         .changes = changes,
                                                         .changes_only = changes_only});
    s.rearm();  // callbacks may have come while it waited
    if (!answer) return SA_AIS_ERR_TIMEOUT;
    if (answer->refusal != amf::model::ProtectionGroupRefusal::kNone) {
      return to_sa(answer->refusal);
    }
    if (!current || by_callback) return SA_AIS_OK;
    const auto count = static_cast<SaUint32T>(answer->members.size());
    if (notificationBuffer->notification == nullptr) {
      // The library allocates; saAmfProtectionGroupNotificationFree releases.
      notificationBuffer->notification = static_cast<SaAmfProtectionGroupNotificationT*>(
          std::calloc(std::max<SaUint32T>(count, 1), sizeof(SaAmfProtectionGroupNotificationT)));
      if (notificationBuffer->notification == nullptr) return SA_AIS_ERR_NO_MEMORY;
    } else if (notificationBuffer->numberOfItems < count) {
      notificationBuffer->numberOfItems = count;
      if (changes || changes_only) (void)s.handle->stop_tracking_protection_group(csi);
      return SA_AIS_ERR_NO_SPACE;
    }
    for (SaUint32T i = 0; i < count; ++i) {
      notificationBuffer->notification[i] = to_sa(answer->members[i]);
    }
    notificationBuffer->numberOfItems = count;
    return SA_AIS_OK;
  });
}

SaAisErrorT saAmfProtectionGroupTrackStop(SaAmfHandleT amfHandle, const SaNameT* csiName) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    if (csiName == nullptr) return SA_AIS_ERR_INVALID_PARAM;
    if (!s.registered) return SA_AIS_ERR_BAD_OPERATION;
    auto answer = s.handle->stop_tracking_protection_group(text(csiName));
    s.rearm();
    if (!answer) return SA_AIS_ERR_TIMEOUT;
    return to_sa(answer->refusal);
  });
}

SaAisErrorT saAmfProtectionGroupNotificationFree(SaAmfHandleT amfHandle,
                                                 SaAmfProtectionGroupNotificationT* notification) {
  return with_session(amfHandle, [&](Session&) {
    std::free(notification);
    return SA_AIS_OK;
  });
}

SaAisErrorT saAmfComponentErrorReport(SaAmfHandleT amfHandle, const SaNameT* erroneousComponent,
                                      SaTimeT, SaAmfRecommendedRecoveryT recommendedRecovery,
                                      SaNtfIdentifierT) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    // A component reports itself only: amf's component protocol names no other.
    if (!s.mine(erroneousComponent)) return SA_AIS_ERR_INVALID_PARAM;
    const auto recovery = recovery_of(value_of(recommendedRecovery));
    if (!recovery) return SA_AIS_ERR_INVALID_PARAM;
    return s.handle->error_report(recovery_name(*recovery), "saAmfComponentErrorReport")
               ? SA_AIS_OK
               : SA_AIS_ERR_LIBRARY;
  });
}

SaAisErrorT saAmfComponentErrorClear(SaAmfHandleT amfHandle, const SaNameT* compName,
                                     SaNtfIdentifierT) {
  return with_session(amfHandle, [&](Session& s) -> SaAisErrorT {
    if (!s.mine(compName)) return SA_AIS_ERR_INVALID_PARAM;
    return SA_AIS_OK;  // amf recovers at the report itself: no error stays to be cleared
  });
}

SaAisErrorT saAmfResponse(SaAmfHandleT amfHandle, SaInvocationT invocation, SaAisErrorT error) {
  return with_session(
      amfHandle, [&](Session& s) -> SaAisErrorT { return s.respond(invocation, value_of(error)); });
}

}  // extern "C"
