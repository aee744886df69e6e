#include "sim/format.h"

#include <variant>

namespace amf::sim {

namespace {

std::string ha(model::HaState s) { return std::string(model::to_string(s)); }

struct CommandText {
  std::string operator()(const protocol::InstantiateSu& c) const {
    return "InstantiateSu " + c.su.str();
  }
  std::string operator()(const protocol::TerminateSu& c) const {
    return "TerminateSu " + c.su.str();
  }
  std::string operator()(const protocol::RepairSu& c) const {
    return "RepairSu " + c.su.str() + (c.instantiate ? "" : " (leave uninstantiated)");
  }
  std::string operator()(const protocol::RestartSu& c) const {
    return "RestartSu " + c.su.str() + (c.comp ? " " + c.comp->str() : std::string());
  }
  std::string operator()(const protocol::AssignHa& c) const {
    return "AssignHa " + c.su.str() + " " + c.si.str() + " " + ha(c.ha) + " (" +
           std::string(model::to_string(c.reason)) + ")" +
           (c.active ? " active " + c.active->str() : std::string());
  }
  std::string operator()(const protocol::RemoveHa& c) const {
    return "RemoveHa " + c.su.str() + " " + c.si.str();
  }
  std::string operator()(const protocol::SnapshotRequest& c) const {
    return "SnapshotRequest " + std::to_string(c.id);
  }
};

struct ReportText {
  std::string operator()(const protocol::SuStateReport& r) const {
    return "SuStateReport " + r.su.str() + " " + std::string(model::to_string(r.presence)) + " " +
           std::string(model::to_string(r.oper)) + " (" + r.cause + ")";
  }
  std::string operator()(const protocol::AssignmentDone& r) const {
    return "AssignmentDone " + r.su.str() + " " + r.si.str() + " " + ha(r.ha);
  }
  std::string operator()(const protocol::RemovalDone& r) const {
    return "RemovalDone " + r.su.str() + " " + r.si.str();
  }
  std::string operator()(const protocol::NodeSnapshot& r) const {
    return "NodeSnapshot " + r.node.str() + " (" + std::to_string(r.sus.size()) + " SUs)" +
           (r.leaving ? " leaving" : "");
  }
  std::string operator()(const protocol::NodeLeaving& r) const {
    return "NodeLeaving " + r.node.str() + " (" + r.cause + ")";
  }
};

struct NodeEventText {
  std::string operator()(const protocol::InstantiateSu& c) const { return CommandText{}(c); }
  std::string operator()(const protocol::TerminateSu& c) const { return CommandText{}(c); }
  std::string operator()(const protocol::RepairSu& c) const { return CommandText{}(c); }
  std::string operator()(const protocol::RestartSu& c) const { return CommandText{}(c); }
  std::string operator()(const protocol::AssignHa& c) const { return CommandText{}(c); }
  std::string operator()(const protocol::RemoveHa& c) const { return CommandText{}(c); }
  std::string operator()(const protocol::SnapshotRequest& c) const { return CommandText{}(c); }
  std::string operator()(const node::ProcessStarted& e) const {
    return "ProcessStarted " + e.comp.str();
  }
  std::string operator()(const node::ProcessStartFailed& e) const {
    return "ProcessStartFailed " + e.comp.str() + " (" + e.reason + ")";
  }
  std::string operator()(const node::ProcessExited& e) const {
    return "ProcessExited " + e.comp.str() + " (" + e.status + ")";
  }
  std::string operator()(const node::ComponentRegister& e) const {
    return "ComponentRegister peer " + std::to_string(e.peer) + " " + e.name;
  }
  std::string operator()(const node::ComponentResponse& e) const {
    return "ComponentResponse peer " + std::to_string(e.peer) + " invocation " +
           std::to_string(e.invocation) + (e.ok ? " ok" : " error");
  }
  std::string operator()(const node::ComponentErrorReport& e) const {
    return "ComponentErrorReport peer " + std::to_string(e.peer) + " (" + e.reason + ")" +
           (e.recommended_recovery.empty() ? "" : " recommends " + e.recommended_recovery);
  }
  std::string operator()(const node::ProbeDone& e) const {
    return "ProbeDone " + e.comp.str() + " invocation " + std::to_string(e.invocation) +
           (e.ok ? " ok" : " failed: " + e.detail);
  }
  std::string operator()(const node::HookDone& e) const {
    return "HookDone " + e.comp.str() + " invocation " + std::to_string(e.invocation) +
           (e.ok ? " ok" : " failed: " + e.detail);
  }
  std::string operator()(const node::ComponentNotify& e) const {
    return "ComponentNotify " + e.comp.str() + (e.ready ? " READY=1" : "") +
           (e.watchdog ? " WATCHDOG=1" : "") + (e.watchdog_trigger ? " WATCHDOG=trigger" : "") +
           (e.stopping ? " STOPPING=1" : "") + (e.status ? " STATUS=" + *e.status : "");
  }
  std::string operator()(const node::ComponentHealthcheckConfirm& e) const {
    return "ComponentHealthcheckConfirm peer " + std::to_string(e.peer) + " " + e.key;
  }
  std::string operator()(const node::ComponentTrackProtectionGroup& e) const {
    return "ComponentTrackProtectionGroup peer " + std::to_string(e.peer) + " " + e.csi;
  }
  std::string operator()(const node::ComponentStopTrackingProtectionGroup& e) const {
    return "ComponentStopTrackingProtectionGroup peer " + std::to_string(e.peer) + " " + e.csi;
  }
  std::string operator()(const node::ServiceAddressFailed& e) const {
    return "ServiceAddressFailed " + e.si.str() + " (" + e.reason + ")";
  }
  std::string operator()(const node::Leave& e) const { return "Leave (" + e.cause + ")"; }
  std::string operator()(const node::Shutdown&) const { return "Shutdown"; }
};

struct NodeEffectText {
  std::string operator()(const node::StartProcess& e) const {
    return "StartProcess " + e.comp.str();
  }
  std::string operator()(const node::SignalProcess& e) const {
    return "SignalProcess " + e.comp.str() +
           (e.signal == node::Signal::kKill ? " SIGKILL" : " SIGTERM");
  }
  std::string operator()(const node::SendRegisterReply& e) const {
    return "SendRegisterReply peer " + std::to_string(e.peer) +
           (e.ok ? " ok" : " refused: " + e.message);
  }
  std::string operator()(const node::SendCsiSet& e) const {
    return "SendCsiSet peer " + std::to_string(e.peer) + " invocation " +
           std::to_string(e.invocation) + " " + e.comp.str() + " " + e.csi.str() + " " + ha(e.ha) +
           " (" + std::string(model::to_string(e.reason)) + ")" +
           (e.active ? " active " + e.active->component : std::string());
  }
  std::string operator()(const node::SendCsiRemove& e) const {
    return "SendCsiRemove peer " + std::to_string(e.peer) + " invocation " +
           std::to_string(e.invocation) + " " + e.comp.str() + " " + e.csi.str();
  }
  std::string operator()(const node::SendHealthcheck& e) const {
    return "SendHealthcheck peer " + std::to_string(e.peer) + " invocation " +
           std::to_string(e.invocation) + " " + e.comp.str() + " " + e.key;
  }
  std::string operator()(const node::SendProtectionGroup& e) const {
    return "SendProtectionGroup peer " + std::to_string(e.peer) + " " + e.csi + " " +
           std::to_string(e.members.size()) + " members";
  }
  std::string operator()(const node::SetServiceAddress& e) const {
    return std::string("SetServiceAddress ") + e.si.str() + " " + e.address.str() +
           (e.up ? " up" : " down");
  }
  std::string operator()(const node::SendTerminate& e) const {
    return "SendTerminate peer " + std::to_string(e.peer) + " invocation " +
           std::to_string(e.invocation) + " " + e.comp.str();
  }
  std::string operator()(const node::RunProbe& e) const {
    return "RunProbe invocation " + std::to_string(e.invocation) + " " + e.comp.str();
  }
  std::string operator()(const node::RunHook& e) const {
    return "RunHook invocation " + std::to_string(e.invocation) + " " + e.comp.str() + " " +
           e.command;
  }
  std::string operator()(const node::ToDirector& e) const {
    return std::visit(ReportText{}, e.message);
  }
  std::string operator()(const model::Notification& n) const {
    return "Notification " + describe(n);
  }
};

struct DirectorEffectText {
  std::string operator()(const director::ToNode& e) const {
    return "ToNode " + e.node.str() + " " + std::visit(CommandText{}, e.command);
  }
  std::string operator()(const director::AdminResult& r) const { return describe(r); }
  std::string operator()(const model::Notification& n) const {
    return "Notification " + describe(n);
  }
  std::string operator()(const director::AdminStateChanged& e) const {
    return "AdminStateChanged " + std::string(director::to_string(e.kind)) + " " + e.entity + " " +
           std::string(model::to_string(e.state));
  }
};

}  // namespace

std::string describe(const node::Event& event) { return std::visit(NodeEventText{}, event); }
std::string describe(const node::Effect& effect) { return std::visit(NodeEffectText{}, effect); }
std::string describe(const director::Effect& effect) {
  return std::visit(DirectorEffectText{}, effect);
}
std::string describe(const protocol::NodeCommand& command) {
  return std::visit(CommandText{}, command);
}

std::string describe(const director::AdminRequest& r) {
  return "AdminRequest #" + std::to_string(r.id) + " " + std::string(director::to_string(r.op)) +
         " " + std::string(director::to_string(r.kind)) + " " + r.entity;
}

std::string describe(const director::AdminResult& r) {
  return "AdminResult #" + std::to_string(r.id) + (r.ok ? " ok" : " failed") +
         (r.message.empty() ? "" : ": " + r.message);
}

std::string describe(const model::Notification& n) {
  std::string out = std::string(model::to_string(n.kind)) + " " + n.entity;
  if (!n.related.empty()) out += " " + n.related;
  out += " " + (n.from.empty() ? std::string("-") : n.from) + " -> " +
         (n.to.empty() ? std::string("-") : n.to);
  if (!n.cause.empty()) out += " (" + n.cause + ")";
  return out;
}

}  // namespace amf::sim
