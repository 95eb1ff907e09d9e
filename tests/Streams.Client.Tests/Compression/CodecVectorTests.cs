namespace Streams.Client.Tests.Compression;

/// <summary>
/// Snappy (framing), LZ4 (frame) and Zstd data written by independent implementations (python3-snappy, python3-lz4,
/// python3-zstandard; see vectors/make-vectors.py) decode exactly, and a wrong announced size is an error either way.
/// </summary>
public sealed class CodecVectorTests
{
    public static TheoryData<string> Vectors => CodecVectors.Names();

    [Fact]
    public void The_manifest_covers_every_codec_lz4_block_size_and_checksum_variant()
    {
        var all = CodecVectors.Vectors;
        Assert.Equal(38, all.Count);
        Assert.Equal(6, all.Count(v => v.Codec == "snappy"));
        foreach (var block in new[] { "64k", "256k", "1m", "4m" })
        {
            Assert.Contains(all, v => v.Codec == "lz4" && v.Params.Contains($"\"block\": \"{block}\"", StringComparison.Ordinal) && v.Params.Contains("\"contentChecksum\": true", StringComparison.Ordinal));
            Assert.Contains(all, v => v.Codec == "lz4" && v.Params.Contains($"\"block\": \"{block}\"", StringComparison.Ordinal) && v.Params.Contains("\"contentChecksum\": false", StringComparison.Ordinal));
            Assert.Contains(all, v => v.Codec == "lz4" && v.Params.Contains($"\"block\": \"{block}\"", StringComparison.Ordinal) && v.Params.Contains("\"blockChecksum\": true", StringComparison.Ordinal));
        }

        Assert.All(all.Where(v => v.Codec == "zstd"), v => Assert.Contains("\"contentSize\": false", v.Params, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Independent_vector_decodes_exactly(string file)
    {
        var v = CodecVectors.Get(file);
        var output = new byte[v.Plain.Length];
        int written = v.CodecInstance.Decompress(v.Compressed, output);
        Assert.Equal(v.Plain.Length, written);
        Assert.True(v.Plain.AsSpan().SequenceEqual(output), $"{file} decoded to different bytes");
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void More_output_than_announced_throws_and_less_is_reported(string file)
    {
        var v = CodecVectors.Get(file);
        var shorter = new byte[v.Plain.Length - 1];
        Assert.ThrowsAny<Exception>(() => v.CodecInstance.Decompress(v.Compressed, shorter));

        var longer = new byte[v.Plain.Length + 1];
        int written = v.CodecInstance.Decompress(v.Compressed, longer);
        Assert.Equal(v.Plain.Length, written);
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Our_output_of_the_same_payload_round_trips(string file)
    {
        var v = CodecVectors.Get(file);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        v.CodecInstance.Compress(v.Plain, buffer);
        var output = new byte[v.Plain.Length];
        Assert.Equal(v.Plain.Length, v.CodecInstance.Decompress(buffer.WrittenMemory, output));
        Assert.True(v.Plain.AsSpan().SequenceEqual(output));
    }
}
