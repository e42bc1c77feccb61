#include "roundhouse/model/slots.h"

#include <gtest/gtest.h>

namespace rh {
namespace {

TEST(Slots, AgentsOfferOneSlotPerGpuOrOneCpuSlot) {
  EXPECT_EQ(gpu_count(""), 0);
  EXPECT_EQ(gpu_count("none"), 0);
  EXPECT_EQ(gpu_count("0, 1 ,3"), 3);
  EXPECT_EQ(offered_slots(""), 1);
  EXPECT_EQ(offered_slots("none"), 1);
  EXPECT_EQ(offered_slots("2,3"), 2);
}

TEST(Slots, ATaskSeesTheFirstDevicesItAsks) {
  EXPECT_EQ(devices_for("0,1,2,3", 2), "0,1");
  EXPECT_EQ(devices_for("0,1", 0), "");
  EXPECT_EQ(devices_for("0,1", 5), "0,1");
  EXPECT_EQ(devices_for("0, 1", -1), "0,1");
  EXPECT_EQ(devices_for("none", 1), "");
}

}  // namespace
}  // namespace rh
