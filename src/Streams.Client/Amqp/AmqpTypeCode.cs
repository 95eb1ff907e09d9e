namespace Streams.Client.Amqp;

/// <summary>AMQP 1.0 primitive format codes (constructors) and section descriptor codes.</summary>
internal static class AmqpTypeCode
{
    public const byte Described = 0x00;
    public const byte Null = 0x40;
    public const byte BooleanTrue = 0x41;
    public const byte BooleanFalse = 0x42;
    public const byte UInt0 = 0x43;
    public const byte ULong0 = 0x44;
    public const byte List0 = 0x45;
    public const byte UByte = 0x50;
    public const byte Byte = 0x51;
    public const byte SmallUInt = 0x52;
    public const byte SmallULong = 0x53;
    public const byte SmallInt = 0x54;
    public const byte SmallLong = 0x55;
    public const byte Boolean = 0x56;
    public const byte UShort = 0x60;
    public const byte Short = 0x61;
    public const byte UInt = 0x70;
    public const byte Int = 0x71;
    public const byte Float = 0x72;
    public const byte Char = 0x73;
    public const byte Decimal32 = 0x74;
    public const byte ULong = 0x80;
    public const byte Long = 0x81;
    public const byte Double = 0x82;
    public const byte Timestamp = 0x83;
    public const byte Decimal64 = 0x84;
    public const byte Decimal128 = 0x94;
    public const byte Uuid = 0x98;
    public const byte Binary8 = 0xa0;
    public const byte String8 = 0xa1;
    public const byte Symbol8 = 0xa3;
    public const byte Binary32 = 0xb0;
    public const byte String32 = 0xb1;
    public const byte Symbol32 = 0xb3;
    public const byte List8 = 0xc0;
    public const byte Map8 = 0xc1;
    public const byte List32 = 0xd0;
    public const byte Map32 = 0xd1;
    public const byte Array8 = 0xe0;
    public const byte Array32 = 0xf0;

    public const ulong HeaderSection = 0x70;
    public const ulong DeliveryAnnotationsSection = 0x71;
    public const ulong MessageAnnotationsSection = 0x72;
    public const ulong PropertiesSection = 0x73;
    public const ulong ApplicationPropertiesSection = 0x74;
    public const ulong DataSection = 0x75;
    public const ulong AmqpSequenceSection = 0x76;
    public const ulong AmqpValueSection = 0x77;
    public const ulong FooterSection = 0x78;

    /// <summary>The deepest nesting of lists, maps, arrays and described values the codec accepts.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// The width in bytes of one value of a fixed-width type after its constructor, or -1 for variable-width types
    /// and -2 for unknown constructors.
    /// </summary>
    public static int FixedWidth(byte code) => code switch
    {
        Null or BooleanTrue or BooleanFalse or UInt0 or ULong0 or List0 => 0,
        UByte or Byte or SmallUInt or SmallULong or SmallInt or SmallLong or Boolean => 1,
        UShort or Short => 2,
        UInt or Int or Float or Char or Decimal32 => 4,
        ULong or Long or Double or Timestamp or Decimal64 => 8,
        Decimal128 or Uuid => 16,
        Binary8 or String8 or Symbol8 or Binary32 or String32 or Symbol32
            or List8 or Map8 or List32 or Map32 or Array8 or Array32 => -1,
        _ => -2,
    };
}
