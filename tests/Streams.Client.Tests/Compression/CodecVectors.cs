using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Streams.Client.Compression;

namespace Streams.Client.Tests.Compression;

/// <summary>The vectors of vectors/make-vectors.py (python3-snappy, python3-lz4, python3-zstandard) and their payloads.</summary>
internal static class CodecVectors
{
    private static readonly byte[][] Words = new[]
    {
        "stream", "offset", "chunk", "broker", "rabbit", "consumer", "producer", "batch",
        "entry", "record", "credit", "leader", "replica", "segment", "publish", "confirm",
    }.Select(Encoding.ASCII.GetBytes).ToArray();

    private static readonly Lazy<IReadOnlyList<Vector>> All = new(Load);

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Compression", "vectors");

    public static IReadOnlyList<Vector> Vectors => All.Value;

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var v in Vectors)
        {
            data.Add(v.File);
        }

        return data;
    }

    public static Vector Get(string file) => Vectors.Single(v => v.File == file);

    public static ICompressionCodec CodecOf(string codec) => codec switch
    {
        "snappy" => StreamCompressionCodecs.Snappy,
        "lz4" => StreamCompressionCodecs.Lz4,
        "zstd" => StreamCompressionCodecs.Zstd,
        _ => throw new ArgumentOutOfRangeException(nameof(codec), codec, "unknown codec in the manifest"),
    };

    /// <summary>The payload the script compressed (the same generator, ported).</summary>
    public static byte[] Payload(string kind, int size, uint seed)
    {
        var x = seed;
        uint Next()
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            return x;
        }

        switch (kind)
        {
            case "text":
                var text = new List<byte>(size + 16);
                while (text.Count < size)
                {
                    text.AddRange(Words[Next() & 15]);
                    text.Add((byte)' ');
                }

                return text.Take(size).ToArray();
            case "random":
                var random = new byte[size];
                for (int i = 0; i < size; i++)
                {
                    random[i] = (byte)(Next() & 0xFF);
                }

                return random;
            case "repeat":
                var unit = Payload("text", 1024, seed);
                var repeated = new byte[size];
                for (int i = 0; i < size; i += unit.Length)
                {
                    unit.AsSpan(0, Math.Min(unit.Length, size - i)).CopyTo(repeated.AsSpan(i));
                }

                return repeated;
            case "records":
                return Records(RecordBodies(size));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown payload kind");
        }
    }

    /// <summary>The message bodies of a "records" payload: body i = "order-{i:000000} " repeated 1 + i % 7 times.</summary>
    public static byte[][] RecordBodies(int count) =>
        Enumerable.Range(0, count).Select(i => Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"order-{i:000000} ", 1 + (i % 7))))).ToArray();

    public static byte[] Records(IEnumerable<byte[]> bodies)
    {
        var output = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        foreach (var body in bodies)
        {
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)body.Length);
            output.Write(length);
            output.Write(body);
        }

        return output.ToArray();
    }

    private static List<Vector> Load()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "manifest.json")));
        var list = new List<Vector>();
        foreach (var v in manifest.RootElement.GetProperty("vectors").EnumerateArray())
        {
            var file = v.GetProperty("file").GetString()!;
            var plain = Payload(v.GetProperty("kind").GetString()!, v.GetProperty("size").GetInt32(), v.GetProperty("seed").GetUInt32());
            var sha = Convert.ToHexStringLower(SHA256.HashData(plain));
            if (sha != v.GetProperty("sha256").GetString() || plain.Length != v.GetProperty("length").GetInt32())
            {
                throw new InvalidOperationException($"The payload of {file} rebuilt here differs from the one the script compressed (generator out of step).");
            }

            list.Add(new Vector(file, v.GetProperty("codec").GetString()!, v.GetProperty("kind").GetString()!, v.GetProperty("size").GetInt32(),
                File.ReadAllBytes(Path.Combine(Folder, file)), plain, v.GetProperty("params").GetRawText()));
        }

        return list;
    }

    internal sealed record Vector(string File, string Codec, string Kind, int Size, byte[] Compressed, byte[] Plain, string Params)
    {
        public ICompressionCodec CodecInstance => CodecOf(Codec);
    }
}
