#include <gtest/gtest.h>

#include "amf/wire/codec.h"

namespace amf::wire {
namespace {

using namespace checkpoint;
using std::chrono::milliseconds;

Header head(std::uint64_t generation = 2) {
  return Header{CheckpointName("counter-state"), NodeId("n1"), generation};
}

Attributes attributes() {
  Attributes a;
  a.mode = UpdateMode::kAsynchronous;
  a.max_sections = 4;
  a.max_section_size = 100;
  a.retention = milliseconds(1500);
  return a;
}

std::string refused(const Message& m) {
  auto decoded = decode_checkpoint_message(encode(m));
  return decoded ? std::string("accepted") : decoded.error().message();
}

TEST(CheckpointCodecTest, EveryMessageRoundTrips) {
  const std::string binary("\0\xff id", 5);
  const std::vector<Message> messages{
      Append{head(),
             {1, 41},
             CreateSection{SectionId(binary), std::string("\0data", 5), milliseconds(30)}},
      Append{head(), {2, 42}, DeleteSection{SectionId("a")}},
      Append{head(), {2, 43}, WriteSection{SectionId("a"), 7, "xyz"}},
      Append{head(), {2, 44}, OverwriteSection{SectionId("a"), ""}},
      Append{head(), {2, 45}, SetExpiration{SectionId("a"), std::nullopt}},
      Append{head(), {2, 46}, SetExpiration{SectionId("a"), milliseconds(5)}},
      Probe{head(), {2, 46}, attributes()},
      Ack{head(), {2, 46}, true},
      Resync{head(), {1, 40}},
      Snapshot{head(),
               {2, 46},
               3,
               true,
               attributes(),
               {{SectionId("a"), "1", std::nullopt}, {SectionId("b"), "22", milliseconds(9)}}},
      InService{head(), {2, 46}},
      Pull{head()},
  };
  for (const Message& m : messages) {
    const std::string bytes = encode(m);
    auto decoded = decode_checkpoint_message(bytes);
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(decoded->index(), m.index());
    EXPECT_EQ(checkpoint::describe(*decoded), checkpoint::describe(m));
    EXPECT_EQ(encode(*decoded), bytes) << checkpoint::describe(m);
  }
  auto create = decode_checkpoint_message(encode(messages[0]));
  const auto& op = std::get<CreateSection>(std::get<Append>(*create).operation);
  EXPECT_EQ(op.id.str(), binary);
  EXPECT_EQ(op.data, std::string("\0data", 5));
  EXPECT_EQ(op.expires_in, milliseconds(30));
  auto snapshot = decode_checkpoint_message(encode(messages[9]));
  const auto& s = std::get<Snapshot>(*snapshot);
  EXPECT_EQ(s.attributes, attributes());
  ASSERT_EQ(s.sections.size(), 2u);
  EXPECT_EQ(s.sections[1].data, "22");
  EXPECT_EQ(s.sections[1].expires_in, milliseconds(9));
  EXPECT_EQ(s.sections[0].expires_in, std::nullopt);
}

TEST(CheckpointCodecTest, WhatTheReplicaMustNeverSeeIsRefusedWithTheReason) {
  EXPECT_EQ(refused(Ack{Header{CheckpointName("a/b"), NodeId("n1"), 1}, {}, false}),
            "checkpoint acknowledgement: checkpoint name 'a/b' has a control character or '/'");
  EXPECT_EQ(refused(Ack{Header{CheckpointName("c"), NodeId(""), 1}, {}, false}),
            "checkpoint acknowledgement: it names no sending node");
  EXPECT_EQ(refused(Resync{head(0), {}}),
            "checkpoint resync: it has generation 0, which no active replica has");
  Attributes bad = attributes();
  bad.max_sections = 0;
  EXPECT_EQ(refused(Probe{head(), {}, bad}),
            "checkpoint probe: max_sections is 0, must be 1 to 65536");
  EXPECT_EQ(refused(Append{head(), {1, 1}, CreateSection{SectionId(""), ""}}),
            "checkpoint append: a section id is empty");
  EXPECT_EQ(refused(Append{head(), {1, 1}, DeleteSection{SectionId(std::string(300, 'x'))}}),
            "checkpoint append: a section id is 300 bytes, over 256");
  EXPECT_EQ(refused(Append{head(), {1, 1}, CreateSection{SectionId("a"), "", Duration(-5)}}),
            "checkpoint append: a section's lifetime is not positive");
  EXPECT_EQ(refused(Append{head(), {1, ~std::uint64_t{0}}, DeleteSection{SectionId("a")}}),
            "checkpoint append: it follows the last sequence number there is");
  EXPECT_EQ(refused(Append{head(2), {3, 1}, DeleteSection{SectionId("a")}}),
            "checkpoint append: it follows generation 3, newer than its own 2");
  EXPECT_EQ(refused(Append{head(), {1, 1}, WriteSection{SectionId("a"), 1ull << 40, "x"}}),
            "checkpoint append: a write's offset is past the largest section there can be");
  Attributes one = attributes();
  one.max_sections = 1;
  EXPECT_EQ(
      refused(Snapshot{head(), {}, 0, true, one, {{SectionId("a"), ""}, {SectionId("b"), ""}}}),
      "checkpoint snapshot: 2 sections, over its max_sections of 1");
  EXPECT_EQ(refused(Snapshot{
                head(), {}, 0, true, attributes(), {{SectionId("a"), ""}, {SectionId("a"), ""}}}),
            "checkpoint snapshot: section 'a' comes twice");
  auto garbage = decode_checkpoint_message("\xff\xff\xff");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().message(),
            "malformed checkpoint message (3 bytes that are not a protobuf message)");
  auto empty = decode_checkpoint_message("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message(),
            "checkpoint message has protocol version 0; this build speaks version 1");
}

// A node's checkpoint store keeps these (amf/daemon/checkpoint_store.h): an operation, or the
// whole content.
TEST(CheckpointCodecTest, StoreRecordsRoundTripAndWhatBreaksTheLimitsIsRefused) {
  const CheckpointRecord op{CheckpointName("counter-state"), attributes(),
                            Persist{7, {2, 46}, WriteSection{SectionId("a"), 3, "xyz"}, {}}};
  auto decoded = decode_checkpoint_record(encode(op));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->checkpoint, op.checkpoint);
  EXPECT_EQ(decoded->attributes, attributes());
  EXPECT_EQ(decoded->record.record, 0u) << "a record's number is the replica's, not stored";
  EXPECT_EQ(decoded->record.at, (Position{2, 46}));
  ASSERT_TRUE(decoded->record.operation);
  EXPECT_EQ(describe(*decoded->record.operation), describe(*op.record.operation));

  const CheckpointRecord image{
      CheckpointName("counter-state"), attributes(),
      Persist{1,
              {2, 3},
              std::nullopt,
              {{SectionId("a"), "1", std::nullopt}, {SectionId("b"), "", milliseconds(9)}}}};
  decoded = decode_checkpoint_record(encode(image));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_FALSE(decoded->record.operation);
  ASSERT_EQ(decoded->record.image.size(), 2u);
  EXPECT_EQ(decoded->record.image[1].expires_in, milliseconds(9));
  EXPECT_EQ(encode(*decoded), encode(image));

  auto refused_record = [](const CheckpointRecord& r) {
    auto d = decode_checkpoint_record(encode(r));
    return d ? std::string("accepted") : d.error().message();
  };
  CheckpointRecord big = image;
  big.record.image.push_back({SectionId("c"), std::string(101, 'x'), std::nullopt});
  EXPECT_EQ(refused_record(big),
            "checkpoint record: section 'c' is 101 bytes, over its max_section_size");
  CheckpointRecord twice = image;
  twice.record.image[1].id = SectionId("a");
  EXPECT_EQ(refused_record(twice), "checkpoint record: section 'a' comes twice");
  CheckpointRecord bad_name = op;
  bad_name.checkpoint = CheckpointName("a/b");
  EXPECT_EQ(refused_record(bad_name), "checkpoint name 'a/b' has a control character or '/'");
  auto garbage = decode_checkpoint_record("\xff\xff\xff");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().message(),
            "malformed checkpoint record (3 bytes that are not a protobuf message)");
}

// amfctl ckpt: a node's replicas as the admin socket carries them.
TEST(CheckpointCodecTest, ACheckpointListRoundTripsWithEachReplicasState) {
  CheckpointStatus active{
      CheckpointName("a"),           attributes(), true, NodeId("n1"), 7, {7, 3}, false, 1, 2, 1,
      {{NodeId("n2"), {7, 2}, true}}};
  active.recovering = true;
  CheckpointStatus follower{
      CheckpointName("b"), attributes(), false, NodeId("n2"), 4, {4, 9}, true, 0, 0, 0, {}};
  const CheckpointList list{"n1", {CheckpointView{active, {}}, CheckpointView{follower, {}}}};
  auto decoded = decode_admin_reply(encode(AdminReply{list}));
  ASSERT_TRUE(decoded) << decoded.error().message();
  const auto* back = std::get_if<CheckpointList>(&*decoded);
  ASSERT_NE(back, nullptr);
  ASSERT_EQ(back->checkpoints.size(), 2u);
  EXPECT_TRUE(back->checkpoints[0].status.recovering);
  EXPECT_EQ(back->checkpoints[0].status.position, (Position{7, 3}));
  ASSERT_EQ(back->checkpoints[0].status.peers.size(), 1u);
  EXPECT_TRUE(back->checkpoints[0].status.peers[0].in_service);
  EXPECT_FALSE(back->checkpoints[1].status.recovering);
  EXPECT_TRUE(back->checkpoints[1].status.in_service);
  EXPECT_EQ(encode(AdminReply{*back}), encode(AdminReply{list}));
}

TEST(CheckpointCodecTest, TheComponentChannelsRequestsAndRepliesRoundTrip) {
  const CheckpointName name("counter-state");
  const std::vector<ComponentMessage> messages{
      CheckpointRequest{1, name, CheckpointOpen{attributes(), true}},
      CheckpointRequest{2, name, CheckpointOpen{std::nullopt, false}},
      CheckpointRequest{3, name, CheckpointClose{}},
      CheckpointRequest{4, name, Operation{WriteSection{SectionId("v"), 2, "42"}}},
      CheckpointRequest{5, name, CheckpointRead{SectionId("v"), 1, 10}},
      CheckpointRequest{6, name, CheckpointSections{}},
      CheckpointReply{5, true, "", std::string("4\0", 2), {}},
      CheckpointReply{6,
                      true,
                      "",
                      "",
                      {{SectionId("v"), 2, std::nullopt}, {SectionId("w"), 0, milliseconds(3)}}},
      CheckpointReply{7, false, "checkpoint 'x' is not open by this component", "", {}},
  };
  for (const ComponentMessage& m : messages) {
    const std::string bytes = encode(m);
    auto decoded = decode_component_message(bytes);
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(decoded->index(), m.index());
    EXPECT_EQ(encode(*decoded), bytes);
  }
  auto open = decode_component_message(encode(messages[0]));
  const auto& request = std::get<CheckpointRequest>(*open);
  EXPECT_EQ(request.checkpoint, name);
  EXPECT_EQ(std::get<CheckpointOpen>(request.body).create, attributes());
  auto listed = decode_component_message(encode(messages[7]));
  const auto& sections = std::get<CheckpointReply>(*listed).sections;
  ASSERT_EQ(sections.size(), 2u);
  EXPECT_EQ(sections[1].expires_in, milliseconds(3));
  EXPECT_EQ(decode_component_message(encode(ComponentMessage{CheckpointRequest{
                                         1, CheckpointName("a/b"), CheckpointClose{}}}))
                .error()
                .message(),
            "checkpoint request: checkpoint name 'a/b' has a control character or '/'");
  EXPECT_EQ(decode_component_message(encode(ComponentMessage{CheckpointRequest{
                                         1, name, CheckpointRead{SectionId(""), 0, 1}}}))
                .error()
                .message(),
            "checkpoint request: a section id is empty");
}

}  // namespace
}  // namespace amf::wire
