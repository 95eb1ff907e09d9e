using Streams.Client.Consumers;

namespace Streams.Client.Tests.Consumers;

/// <summary>Seeded random chunks: valid ones round-trip exactly; mutated ones either read consistently or fail typed.</summary>
public sealed class ChunkReaderRandomTests
{
    private const string Stream = "random";

    /// <summary>A random valid user chunk and the records it holds, in offset order.</summary>
    private static (byte[] Chunk, List<byte[]> Records) RandomChunk(Random random, ulong chunkId, int maxEntries)
    {
        var builder = new ChunkBuilder();
        var records = new List<byte[]>();
        int entries = random.Next(0, maxEntries + 1);
        for (int e = 0; e < entries; e++)
        {
            if (random.Next(10) < 6)
            {
                var body = RandomBytes(random, random.Next(0, 200));
                builder.Simple(body);
                records.Add(body);
            }
            else
            {
                var bodies = new byte[random.Next(1, 13)][];
                for (int i = 0; i < bodies.Length; i++)
                {
                    bodies[i] = RandomBytes(random, random.Next(0, 150));
                }

                builder.SubBatch((byte)random.Next(0, 2), bodies);
                records.AddRange(bodies);
            }
        }

        return (builder.Build(chunkId), records);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];

        // Half compressible text, half noise: both shapes go through gzip.
        if (random.Next(2) == 0)
        {
            random.NextBytes(bytes);
        }
        else
        {
            for (int i = 0; i < length; i++)
            {
                bytes[i] = (byte)('a' + random.Next(0, 4));
            }
        }

        return bytes;
    }

    [Fact]
    public void Random_valid_chunks_round_trip_with_offsets_and_bodies()
    {
        var random = new Random(20261201);
        int checkedRecords = 0;
        for (int n = 0; n < 300; n++)
        {
            ulong chunkId = (ulong)random.NextInt64(0, 1L << 40);
            var (chunk, records) = RandomChunk(random, chunkId, maxEntries: 30);
            ulong min = random.Next(4) switch
            {
                0 => 0,
                1 => chunkId - (ulong)random.Next(0, (int)Math.Min(chunkId, 10) + 1),
                _ => chunkId + (ulong)random.Next(0, records.Count + 2),
            };

            var header = ChunkHeader.Read(chunk, Stream);
            Assert.True(header.IsCrcValid(chunk));
            Assert.Equal((uint)records.Count, header.NumRecords);
            using var reader = new ChunkReader(chunk, header, min, ChunkReader.DefaultMaxUncompressedSize, Stream);
            int index = (int)Math.Min((ulong)records.Count, min > chunkId ? min - chunkId : 0);
            while (reader.TryRead(out ulong offset, out var message))
            {
                Assert.True(index < records.Count, $"chunk {n}: more records than built");
                Assert.Equal(chunkId + (ulong)index, offset);
                Assert.True(records[index].AsSpan().SequenceEqual(message.Span), $"chunk {n}, offset {offset}: body differs");
                index++;
                checkedRecords++;
            }

            Assert.Equal(records.Count, index);
            Assert.False(reader.TryRead(out _, out _));
        }

        Assert.True(checkedRecords > 5_000, $"only {checkedRecords} records checked");
    }

    [Fact]
    public void Mutated_chunks_read_consistently_or_fail_with_a_typed_exception()
    {
        var random = new Random(13);
        int failures = 0;
        int successes = 0;
        for (int n = 0; n < 2_000; n++)
        {
            var (chunk, _) = RandomChunk(random, (ulong)random.NextInt64(0, 1L << 40), maxEntries: 6);
            int mutations = random.Next(1, 4);
            for (int m = 0; m < mutations; m++)
            {
                // Anywhere but the magic byte: header fields (not covered by the CRC) and entry bytes.
                int at = random.Next(1, chunk.Length);
                chunk[at] = random.Next(3) switch
                {
                    0 => (byte)random.Next(256),
                    1 => (byte)(chunk[at] ^ (1 << random.Next(8))),
                    _ => 0xFF,
                };
            }

            ulong min = random.Next(2) == 0 ? 0 : (ulong)random.NextInt64(0, 1L << 40);
            try
            {
                var header = ChunkHeader.Read(chunk, Stream);
                using var reader = new ChunkReader(chunk, header, 0, 64 * 1024, Stream);
                ulong expected = header.ChunkId;
                while (reader.TryRead(out ulong offset, out _))
                {
                    Assert.Equal(expected++, offset);
                }

                // A chunk read to its end holds exactly what its header says (tracking chunks: nothing).
                Assert.Equal(header.IsUserChunk ? header.NumRecords : 0ul, expected - header.ChunkId);

                // Reading from a minimum offset sees the same chunk the same way.
                using var skipping = new ChunkReader(chunk, header, min, 64 * 1024, Stream);
                while (skipping.TryRead(out ulong offset, out _))
                {
                    Assert.True(offset >= min);
                }

                successes++;
            }
            catch (Exception ex) when (ex is ChunkFormatException or UnsupportedCompressionException)
            {
                if (ex is ChunkFormatException format)
                {
                    Assert.Equal(Stream, format.Stream);
                    Assert.Contains($"of stream {Stream}", format.Message, StringComparison.Ordinal);
                }

                failures++;
            }
        }

        Assert.True(failures > 500, $"{failures} failures, {successes} successes");
    }
}
