using Streams.Hosting.Internal.Pipeline;

namespace Streams.Hosting.Tests.Pipeline;

public sealed class OffsetWatermarkTests
{
    [Fact]
    public void Out_of_order_completions_move_the_watermark_only_below_the_oldest_unfinished_offset()
    {
        var watermark = new OffsetWatermark();
        foreach (var offset in new ulong[] { 10, 11, 12, 13 })
        {
            watermark.Add(offset);
        }

        Assert.Equal(9, watermark.Complete(11));   // 10 still running
        Assert.Equal(9, watermark.Complete(13));
        Assert.Equal(11, watermark.Complete(10));  // 12 still running
        Assert.Equal(13, watermark.Complete(12));  // all done: the highest handed out
    }

    [Fact]
    public void Nothing_handed_out_completes_at_minus_one()
    {
        var watermark = new OffsetWatermark();
        watermark.Add(0);
        Assert.Equal(0, watermark.Complete(0));
        Assert.Equal(-1, new OffsetWatermark().Complete(5));
    }
}
