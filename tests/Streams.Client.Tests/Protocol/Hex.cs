namespace Streams.Client.Tests.Protocol;

internal static class Hex
{
    /// <summary>Parses hex with optional spaces and quoted ASCII runs, e.g. <c>00 02 "ab"</c>.</summary>
    public static byte[] Parse(string text)
    {
        var bytes = new List<byte>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c) || c == '|')
            {
                i++;
            }
            else if (c == '"')
            {
                var end = text.IndexOf('"', i + 1);
                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(text[(i + 1)..end]));
                i = end + 1;
            }
            else
            {
                bytes.Add(Convert.ToByte(text.Substring(i, 2), 16));
                i += 2;
            }
        }

        return [.. bytes];
    }

    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    public static void Equal(string expected, ReadOnlySpan<byte> actual) => Assert.Equal(Format(Parse(expected)), Format(actual));
}
