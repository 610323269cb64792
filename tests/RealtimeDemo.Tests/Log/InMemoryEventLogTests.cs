using Microsoft.Extensions.Time.Testing;

namespace RealtimeDemo.Tests.Log;

/// <summary>The embedded log: the whole <see cref="EventLogContract"/>, and what only it has (its own epoch, its checks).</summary>
public sealed class InMemoryEventLogTests : EventLogContract
{
    private const string Epoch = "e1";

    private readonly FakeTimeProvider _time = new();

    protected override Task<IEventLog> CreateLogAsync(int retention, TimeProvider time) =>
        Task.FromResult<IEventLog>(new InMemoryEventLog(retention, time, Epoch));

    [Fact]
    public void EpochIsRandomLowerCaseHexWhenOmitted()
    {
        var first = new InMemoryEventLog(16, _time);
        var second = new InMemoryEventLog(16, _time);

        // Twelve hex digits: a valid epoch, and never one a test's made-up foreign epoch (with a 'z') could equal.
        Assert.Matches("^[0-9a-f]{12}$", first.Epoch);
        Assert.NotEqual(first.Epoch, second.Epoch);
        Assert.Equal(16, first.Retention);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("with-dash")]
    [InlineData("0123456789abcdefghijklmnopqrstuvw")]
    public void ConstructorRefusesAnEpochThatCannotAppearInACursor(string epoch)
    {
        Assert.Throws<ArgumentException>(() => new InMemoryEventLog(16, _time, epoch));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ConstructorRefusesARetentionBelowOne(int retention)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryEventLog(retention, _time, Epoch));
    }
}
