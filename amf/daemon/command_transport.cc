#include "amf/daemon/command_transport.h"

#include "amf/wire/codec.h"

namespace amf::daemon {

Result<std::unique_ptr<CommandTransport>> CommandTransport::start(boost::asio::io_context& io,
                                                                  Settings settings,
                                                                  Deliver deliver,
                                                                  Refused on_refused) {
  std::unique_ptr<CommandTransport> t(new CommandTransport(std::move(deliver)));
  CommandTransport* self = t.get();
  auto links = PeerLinks::start(
      io,
      PeerLinks::Settings{settings.self, "command socket", settings.endpoint, settings.peers,
                          settings.key, settings.max_message_bytes},
      [self](const NodeId& from, std::string_view bytes) -> std::optional<std::string> {
        auto envelope = wire::decode_node_envelope(bytes);
        if (!envelope) return envelope.error().message();
        if (envelope->from.node != from) {
          return "an envelope that names " + envelope->from.node.str() + " as its sender";
        }
        self->deliver_(*envelope);
        return std::nullopt;
      },
      std::move(on_refused));
  if (!links) return tl::unexpected(links.error());
  t->links_ = std::move(*links);
  return t;
}

void CommandTransport::send(const protocol::Envelope& envelope) {
  links_->send(envelope.to.node, wire::encode(envelope));
}

}  // namespace amf::daemon
